package ir

import "fmt"

// InferNode sets the dtype and shape of n's outputs from its inputs and
// attributes, using the op table's Infer function. Opaque nodes keep the
// types their outputs already declare.
func InferNode(n *Node) error {
	if n.Op == OpOpaque {
		return nil
	}
	info := n.Op.Info()
	if info.Infer == nil {
		return fmt.Errorf("ir: node %q (%s): no shape inference", n.Name, n.TypeName())
	}
	if err := info.Infer(n); err != nil {
		return fmt.Errorf("ir: node %q (%s): %w", n.Name, n.TypeName(), err)
	}
	return nil
}

// InferShapes runs InferNode over g's nodes in order.
func InferShapes(g *Graph) error {
	for _, n := range g.Nodes {
		if err := InferNode(n); err != nil {
			return err
		}
	}
	return nil
}
