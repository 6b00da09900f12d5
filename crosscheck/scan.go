package crosscheck

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ferminets/fermi/ir"
)

// Model is the top-level structure of an ONNX model as Scan reads it.
type Model struct {
	IRVersion    int64
	Opsets       []ir.OpsetImport
	Nodes        []Node
	Initializers []string // names, in file order
	Inputs       []string // graph input names (may include initializers)
	Outputs      []string
	NonTensor    []string // graph inputs and outputs declared as sequences, maps, optionals or sparse tensors
}

// Node is one NodeProto of the main graph.
type Node struct {
	Name, OpType, Domain string
	Raw                  []byte // the encoded NodeProto, exactly as in the file
}

// Opset returns the version the model imports for domain ("" is the default
// ONNX domain, also spelled "ai.onnx"), or 0.
func (m *Model) Opset(domain string) int64 {
	for _, o := range m.Opsets {
		if o.Domain == domain || (isDefault(o.Domain) && isDefault(domain)) {
			return o.Version
		}
	}
	return 0
}

func isDefault(domain string) bool { return domain == "" || domain == "ai.onnx" }

// IsDefaultDomain reports whether n belongs to the default ONNX domain.
func (n Node) IsDefaultDomain() bool { return isDefault(n.Domain) }

// Field numbers of onnx.proto used by Scan.
const (
	modelIRVersion = 1
	modelOpset     = 8
	modelGraph     = 7
	opsetDomain    = 1
	opsetVersion   = 2
	graphNode      = 1
	graphInit      = 5
	graphInput     = 11
	graphOutput    = 12
	nodeName       = 3
	nodeOpType     = 4
	nodeDomain     = 7
	tensorName     = 8
	valueInfoName  = 1
	valueInfoType  = 2
	typeTensor     = 1
	typeDenotation = 6
)

// Scan reads the top level of an encoded ModelProto.
func Scan(model []byte) (*Model, error) {
	m := &Model{}
	sawGraph := false
	err := fields(model, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == modelIRVersion && typ == protowire.VarintType:
			m.IRVersion = int64(x)
		case num == modelOpset && typ == protowire.BytesType:
			var o ir.OpsetImport
			err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch {
				case num == opsetDomain && typ == protowire.BytesType:
					o.Domain = string(v)
				case num == opsetVersion && typ == protowire.VarintType:
					o.Version = int64(x)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("opset_import: %w", err)
			}
			m.Opsets = append(m.Opsets, o)
		case num == modelGraph && typ == protowire.BytesType:
			sawGraph = true
			return scanGraph(m, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("crosscheck: scanning model: %w", err)
	}
	if !sawGraph {
		return nil, errors.New("crosscheck: scanning model: no graph")
	}
	return m, nil
}

func scanGraph(m *Model, graph []byte) error {
	return fields(graph, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case graphNode:
			n := Node{Raw: v}
			err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if typ != protowire.BytesType {
					return nil
				}
				switch num {
				case nodeName:
					n.Name = string(v)
				case nodeOpType:
					n.OpType = string(v)
				case nodeDomain:
					n.Domain = string(v)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("node %d: %w", len(m.Nodes), err)
			}
			m.Nodes = append(m.Nodes, n)
		case graphInit:
			name, err := stringField(v, tensorName)
			if err != nil {
				return fmt.Errorf("initializer %d: %w", len(m.Initializers), err)
			}
			m.Initializers = append(m.Initializers, name)
		case graphInput, graphOutput:
			name, err := stringField(v, valueInfoName)
			if err != nil {
				return fmt.Errorf("graph input/output: %w", err)
			}
			tensor, err := isTensorType(v)
			if err != nil {
				return fmt.Errorf("graph input/output %q: %w", name, err)
			}
			if !tensor {
				m.NonTensor = append(m.NonTensor, name)
			}
			if num == graphInput {
				m.Inputs = append(m.Inputs, name)
			} else {
				m.Outputs = append(m.Outputs, name)
			}
		}
		return nil
	})
}

// isTensorType reports whether a ValueInfoProto declares a dense tensor (or
// declares no type at all).
func isTensorType(valueInfo []byte) (bool, error) {
	tensor := true
	err := fields(valueInfo, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != valueInfoType || typ != protowire.BytesType {
			return nil
		}
		return fields(v, func(num protowire.Number, typ protowire.Type, _ []byte, _ uint64) error {
			if typ == protowire.BytesType && num != typeTensor && num != typeDenotation {
				tensor = false // sequence_type, map_type, optional_type, sparse_tensor_type, ...
			}
			return nil
		})
	})
	return tensor, err
}

// stringField returns the last value of string field num in msg.
func stringField(msg []byte, num protowire.Number) (string, error) {
	var s string
	err := fields(msg, func(n protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if n == num && typ == protowire.BytesType {
			s = string(v)
		}
		return nil
	})
	return s, err
}

// fields calls fn for every field of msg with its bytes (length-delimited
// fields) or value (varints and fixed-size fields).
func fields(msg []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(msg)
		case protowire.Fixed32Type:
			var y uint32
			y, n = protowire.ConsumeFixed32(msg)
			x = uint64(y)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(msg)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(msg)
		default:
			n = protowire.ConsumeFieldValue(num, typ, msg)
		}
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		msg = msg[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}
