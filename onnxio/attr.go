package onnxio

import (
	"bytes"
	"fmt"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio/onnxpb"
	"google.golang.org/protobuf/proto"
)

var deterministic = proto.MarshalOptions{Deterministic: true}

// attrFromProto converts ap. Kinds the IR does not model (graphs, sparse
// tensors, type protos, tensor lists), reference attributes and attributes
// carrying a doc string or unknown fields become ir.AttrRaw holding the
// encoded AttributeProto. With exact set, an attribute whose conversion would
// not re-encode to the same bytes also stays raw. ext, if not nil, loads
// tensor attributes stored as external data (which otherwise stay raw).
func attrFromProto(ap *onnxpb.AttributeProto, exact bool, ext *externalReader) (ir.Attr, error) {
	a := ir.Attr{Name: ap.GetName()}
	basic := ap.RefAttrName == nil && ap.DocString == nil && len(ap.ProtoReflect().GetUnknown()) == 0
	if basic {
		switch ap.GetType() {
		case onnxpb.AttributeProto_FLOAT:
			a.Kind, a.Float = ir.AttrFloat, ap.GetF()
		case onnxpb.AttributeProto_INT:
			a.Kind, a.Int = ir.AttrInt, ap.GetI()
		case onnxpb.AttributeProto_STRING:
			a.Kind, a.Str = ir.AttrString, string(ap.GetS())
		case onnxpb.AttributeProto_FLOATS:
			a.Kind, a.Floats = ir.AttrFloats, ap.Floats
		case onnxpb.AttributeProto_INTS:
			a.Kind, a.Ints = ir.AttrInts, ap.Ints
		case onnxpb.AttributeProto_STRINGS:
			a.Kind, a.Strs = ir.AttrStrings, make([]string, len(ap.Strings))
			for i, s := range ap.Strings {
				a.Strs[i] = string(s)
			}
		case onnxpb.AttributeProto_TENSOR:
			if ap.T != nil && (ext != nil || ap.T.GetDataLocation() != onnxpb.TensorProto_EXTERNAL) {
				t, err := tensorFromProto(ap.T, ext)
				if err != nil {
					return a, fmt.Errorf("attribute %q: %v", a.Name, err)
				}
				a.Kind, a.Tensor = ir.AttrTensor, t
			}
		}
	}
	var orig []byte
	if a.Kind == 0 || exact {
		var err error
		if orig, err = deterministic.Marshal(ap); err != nil {
			return a, fmt.Errorf("attribute %q: %v", a.Name, err)
		}
	}
	if a.Kind != 0 && exact {
		back, err := attrToProto(a)
		if err == nil {
			var b []byte
			b, err = deterministic.Marshal(back)
			if err == nil && bytes.Equal(b, orig) {
				return a, nil
			}
		}
		a = ir.Attr{Name: a.Name}
	}
	if a.Kind == 0 {
		a.Kind, a.Raw = ir.AttrRaw, orig
	}
	return a, nil
}

// attrToProto converts a to an AttributeProto.
func attrToProto(a ir.Attr) (*onnxpb.AttributeProto, error) {
	ap := &onnxpb.AttributeProto{Name: proto.String(a.Name)}
	set := func(t onnxpb.AttributeProto_AttributeType) { ap.Type = t.Enum() }
	switch a.Kind {
	case ir.AttrFloat:
		set(onnxpb.AttributeProto_FLOAT)
		ap.F = proto.Float32(a.Float)
	case ir.AttrInt:
		set(onnxpb.AttributeProto_INT)
		ap.I = proto.Int64(a.Int)
	case ir.AttrString:
		set(onnxpb.AttributeProto_STRING)
		ap.S = []byte(a.Str)
	case ir.AttrFloats:
		set(onnxpb.AttributeProto_FLOATS)
		ap.Floats = a.Floats
	case ir.AttrInts:
		set(onnxpb.AttributeProto_INTS)
		ap.Ints = a.Ints
	case ir.AttrStrings:
		set(onnxpb.AttributeProto_STRINGS)
		ap.Strings = make([][]byte, len(a.Strs))
		for i, s := range a.Strs {
			ap.Strings[i] = []byte(s)
		}
	case ir.AttrTensor:
		set(onnxpb.AttributeProto_TENSOR)
		t, err := tensorToProto("", a.Tensor)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %v", a.Name, err)
		}
		ap.T = t
	case ir.AttrRaw:
		ap = new(onnxpb.AttributeProto)
		if err := proto.Unmarshal(a.Raw, ap); err != nil {
			return nil, fmt.Errorf("attribute %q: bad raw encoding: %v", a.Name, err)
		}
		if ap.GetName() != a.Name {
			return nil, fmt.Errorf("attribute %q: raw encoding names it %q", a.Name, ap.GetName())
		}
	default:
		return nil, fmt.Errorf("attribute %q has invalid kind %v", a.Name, a.Kind)
	}
	return ap, nil
}
