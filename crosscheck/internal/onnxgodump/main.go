// Command onnxgodump decodes an ONNX model with onnx-go and prints what it
// read as gob (the fields of crosscheck.GoModel). crosscheck.DecodeGo runs it in its own
// process; see package onnxgo for why.
//
// Usage: onnxgodump model.onnx
package main

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"os"

	"github.com/ferminets/fermi/crosscheck/internal/onnxgo"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: onnxgodump model.onnx")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	m, err := onnxgo.Decode(data)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// gob, not JSON: tensors may hold NaN and infinities.
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(m); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(buf.Bytes())
}
