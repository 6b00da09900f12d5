// Package modelfile loads and saves models by file extension: ONNX (.onnx)
// through onnxio and the IR text format (.fir) through ir. Saves are atomic:
// a failed save leaves no partial file. It is the one place the commands turn
// a path into a graph and back.
//
// Invariants: Load returns a verified graph or an error naming the file;
// Save leaves no partial file when it fails.
package modelfile
