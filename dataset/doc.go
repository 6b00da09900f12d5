// Package dataset loads labelled image data sets for training and evaluating
// image classifiers: MNIST (embedded in the binary), Fashion-MNIST and
// CIFAR-10 from their usual files, and any directory of IDX files, CIFAR-10
// binary batches or images sorted into one subdirectory per class.
//
// Everything is held as bytes in a Set; Batch and BatchAugmented turn chosen
// images into normalized float32 NCHW batches for the engine.
//
// Readers never trust a header: IDX headers are validated (magic, dimension
// limits) before anything is allocated, data is read incrementally so that a
// header promising more than the file holds costs no more memory than the file
// itself, and every error names the file and says what is wrong, as a
// *FileError whose kind (ErrTruncated, ErrFormat, …) errors.Is can test.
//
// # Splits
//
// Load's splits are deterministic, with no shuffling: "test" is the test file
// (t10k-*, test_batch.bin, root/test), "val" is the last Options.ValSize
// images of the training file (5,000 by default for MNIST, Fashion-MNIST and
// CIFAR-10) and "train" the images before them, so "train" and "val" never
// overlap and together are the training file.
//
// # Invariants
//
//   - A Set returned by this package passes Set.Check: len(Pixels) =
//     N·C·H·W, len(Labels) = N, every label < Classes ≤ 256.
//   - Pixels are CHW per image; C is 1 (grayscale) or 3 (RGB).
//   - The same inputs and the same rng state give the same batch, bit for bit.
package dataset
