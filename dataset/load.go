package dataset

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

//go:embed mnist/*.gz
var mnistFiles embed.FS

// DefaultValSize is the most images the validation split takes from the end
// of a training file when Options.ValSize is 0.
const DefaultValSize = 5000

// Options control Load.
type Options struct {
	// DataDir is the directory holding the files of "fashion-mnist" or
	// "cifar10". Empty means the default locations (see Load).
	DataDir string
	// ValSize is the number of images at the end of the training file that
	// form the "val" split. 0 means min(DefaultValSize, N/10) for a training
	// file of N images (5,000 for MNIST, Fashion-MNIST and CIFAR-10); a
	// negative value means no validation split ("train" is the whole file).
	ValSize int
	// Classes is the number of classes of a directory of IDX files; labels
	// must be below it. 0 means 10. Other sources know their class count.
	Classes int
	// FolderOptions apply to image folders.
	FolderOptions
}

// Built-in data set names.
var (
	mnistClassNames   = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	fashionClassNames = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
		"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
	fashionDirs = []string{"/usr/share/datasets/fashion-mnist"}
	cifarDirs   = []string{"/usr/share/datasets/cifar10", "/usr/share/datasets/cifar-10-batches-bin"}
)

// Load returns one split ("train", "val" or "test") of a data set. name is
//
//   - "mnist": the MNIST digits, embedded in the binary (11 MB of IDX .gz files);
//   - "fashion-mnist": the IDX files in Options.DataDir, else in
//     /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist);
//   - "cifar10": the binary batches in Options.DataDir, else in
//     /usr/share/datasets/cifar10 or /usr/share/datasets/cifar-10-batches-bin
//     (a cifar-10-batches-bin subdirectory of these is looked into too);
//   - any other string: a directory holding IDX files, CIFAR-10 batches or an
//     image folder, told apart by the files present.
//
// The training file is train-{images-idx3,labels-idx1}-ubyte[.gz] (also with
// a "." before idx), data_batch_1.bin, data_batch_2.bin, … (consecutively
// numbered from 1), or for an image folder root/train if that directory
// exists and else root itself. The test file is t10k-*-ubyte[.gz],
// test_batch.bin or root/test.
//
// Splits are deterministic: "val" is the last ValSize images of the training
// file (see Options.ValSize) and "train" the images before them; "test" is the
// test file. An image folder with a root/val directory uses it as "val", and
// "train" is then all of root/train.
func Load(name, split string, opts Options) (*Set, error) {
	if split != "train" && split != "val" && split != "test" {
		return nil, fmt.Errorf("dataset: split %q, want train, val or test", split)
	}
	test := split == "test"
	var s *Set
	var err error
	switch name {
	case "mnist":
		sub, _ := fs.Sub(mnistFiles, "mnist")
		s, err = loadIDX(sub, "mnist", test, 10)
		if s != nil {
			s.Name, s.ClassNames = name, mnistClassNames
		}
	case "fashion-mnist":
		var dir string
		if dir, err = findDir(name, opts.DataDir, fashionDirs, isIDXDir); err == nil {
			s, err = loadIDX(os.DirFS(dir), dir, test, 10)
		}
		if s != nil {
			s.Name, s.ClassNames = name, fashionClassNames
		}
	case "cifar10":
		var dir string
		if dir, err = findDir(name, opts.DataDir, cifarDirs, isCIFARDir); err == nil {
			s, err = loadCIFAR(dir, test)
		}
		if s != nil {
			s.Name = name
		}
	default:
		return loadPath(name, split, opts)
	}
	if err != nil {
		return nil, err
	}
	if test {
		return s, nil
	}
	return splitTrain(s, split, opts.ValSize)
}

// loadPath loads a split from a directory of IDX files, CIFAR batches or images.
func loadPath(dir, split string, opts Options) (*Set, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("dataset: %q is neither mnist, fashion-mnist, cifar10 nor a directory", dir)
	}
	test := split == "test"
	var s *Set
	var err error
	switch {
	case isIDXDir(dir):
		classes := opts.Classes
		if classes == 0 {
			classes = 10
		}
		if classes < 1 || classes > 256 {
			return nil, fmt.Errorf("dataset: %s: Classes %d, want 1..256", dir, classes)
		}
		s, err = loadIDX(os.DirFS(dir), dir, test, classes)
	case isCIFARDir(dir):
		s, err = loadCIFAR(dir, test)
	default:
		sub, carve := dir, !test
		if isDir(filepath.Join(dir, "train")) {
			sub = filepath.Join(dir, "train")
			hasVal := isDir(filepath.Join(dir, "val"))
			carve = !test && !hasVal
			switch {
			case test:
				sub = filepath.Join(dir, "test")
			case split == "val" && hasVal:
				sub = filepath.Join(dir, "val")
			}
		} else if test {
			return nil, fmt.Errorf("dataset: %s: image folder has no test split (want %s/train and %s/test)", dir, dir, dir)
		}
		s, err = ReadFolder(sub, opts.FolderOptions)
		if err == nil && !carve {
			s.Name = dir
			return s, nil
		}
	}
	if err != nil {
		return nil, err
	}
	s.Name = dir
	if test {
		return s, nil
	}
	return splitTrain(s, split, opts.ValSize)
}

// splitTrain cuts the "train" or "val" split out of a training set s.
func splitTrain(s *Set, split string, valSize int) (*Set, error) {
	v := valSize
	switch {
	case v == 0:
		v = min(DefaultValSize, s.N/10)
	case v < 0:
		v = 0
	}
	if v >= s.N {
		return nil, fmt.Errorf("dataset: %s: ValSize %d leaves no training images of %d", s.Name, v, s.N)
	}
	if split == "val" {
		if v == 0 {
			return nil, fmt.Errorf("dataset: %s: no validation split (ValSize %d)", s.Name, valSize)
		}
		return s.slice(s.N-v, s.N), nil
	}
	s.N -= v
	s.Pixels = s.Pixels[: s.N*s.ImageSize() : s.N*s.ImageSize()]
	s.Labels = s.Labels[:s.N:s.N]
	return s, nil
}

// findDir returns explicit if set, else the first of defaults (or its
// cifar-10-batches-bin subdirectory) that ok accepts.
func findDir(name, explicit string, defaults []string, ok func(string) bool) (string, error) {
	cands := defaults
	if explicit != "" {
		cands = []string{explicit}
	}
	for _, d := range cands {
		for _, c := range []string{d, filepath.Join(d, "cifar-10-batches-bin")} {
			if ok(c) {
				return c, nil
			}
		}
	}
	return "", fmt.Errorf("dataset: %s: no data files found in %s", name, strings.Join(cands, ", "))
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// idxNames returns the accepted file names of an IDX file, most usual first.
func idxNames(prefix, kind string) []string {
	return []string{
		prefix + "-" + kind + "-ubyte.gz", prefix + "-" + kind + "-ubyte",
		prefix + "-" + strings.Replace(kind, "-", ".", 1) + "-ubyte.gz", prefix + "-" + strings.Replace(kind, "-", ".", 1) + "-ubyte",
	}
}

// findIDX returns the name of the first of idxNames(prefix, kind) in fsys.
func findIDX(fsys fs.FS, dir, prefix, kind string) (string, error) {
	names := idxNames(prefix, kind)
	for _, n := range names {
		if st, err := fs.Stat(fsys, n); err == nil && !st.IsDir() {
			return n, nil
		}
	}
	return "", fmt.Errorf("dataset: %s: no %s file (%s)", dir, prefix+"-"+kind, strings.Join(names, ", "))
}

func isIDXDir(dir string) bool {
	_, err := findIDX(os.DirFS(dir), dir, "train", "images-idx3")
	return err == nil
}

func isCIFARDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "data_batch_1.bin"))
	return err == nil && !st.IsDir()
}

// loadIDX reads the training (or, if test, the t10k) image and label files
// from fsys, whose location dir is used in error messages.
func loadIDX(fsys fs.FS, dir string, test bool, classes int) (*Set, error) {
	prefix := "train"
	if test {
		prefix = "t10k"
	}
	var files [2]*IDX
	for i, kind := range []string{"images-idx3", "labels-idx1"} {
		name, err := findIDX(fsys, dir, prefix, kind)
		if err != nil {
			return nil, err
		}
		f, err := fsys.Open(name)
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		files[i], err = ReadIDX(path.Join(filepath.ToSlash(dir), name), f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return FromIDX(files[0], files[1], classes)
}

// FromIDX pairs an IDX image file with its label file into a one-channel set
// named after the image file, checking that both are of the right kind, that
// they hold the same number of examples and that every label is below classes.
func FromIDX(images, labels *IDX, classes int) (*Set, error) {
	switch {
	case !images.IsImages():
		return nil, fileErr(images.File, ErrFormat, "is a label file (magic 0x%08x), want images (0x%08x)", MagicIDXLabels, MagicIDXImages)
	case labels.IsImages():
		return nil, fileErr(labels.File, ErrFormat, "is an image file (magic 0x%08x), want labels (0x%08x)", MagicIDXImages, MagicIDXLabels)
	case images.Count() != labels.Count():
		return nil, fileErr(labels.File, ErrMismatch, "holds %d labels, but %s holds %d images",
			labels.Count(), images.File, images.Count())
	case classes < 1 || classes > 256:
		return nil, fmt.Errorf("dataset: %s: %d classes, want 1..256", labels.File, classes)
	}
	for i, l := range labels.Data {
		if int(l) >= classes {
			return nil, fileErr(labels.File, ErrLabel, "label %d of example %d is out of range for %d classes", l, i, classes)
		}
	}
	return &Set{Name: images.File, N: images.Count(), C: 1, H: images.Dims[1], W: images.Dims[2],
		Classes: classes, Pixels: images.Data, Labels: labels.Data}, nil
}

// loadCIFAR reads the training batches data_batch_1.bin, data_batch_2.bin, …
// (or, if test, test_batch.bin) from dir.
func loadCIFAR(dir string, test bool) (*Set, error) {
	var names []string
	if test {
		names = []string{"test_batch.bin"}
	} else {
		var err error
		if names, err = cifarBatches(dir); err != nil {
			return nil, err
		}
	}
	var sets []*Set
	for _, n := range names {
		p := filepath.Join(dir, n)
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		s, err := ReadCIFAR(p, f)
		f.Close()
		if err != nil {
			return nil, err
		}
		sets = append(sets, s)
	}
	return concat(dir, sets), nil
}

// cifarBatches lists data_batch_K.bin in dir, requiring K = 1, 2, … without gaps.
func cifarBatches(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "data_batch_*.bin"))
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var nums []int
	for _, m := range matches {
		k, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "data_batch_"), ".bin"))
		if err != nil {
			return nil, fileErr(m, ErrFormat, "batch file name is not data_batch_<number>.bin")
		}
		nums = append(nums, k)
	}
	sort.Ints(nums)
	var names []string
	for i, k := range nums {
		if k != i+1 {
			return nil, fmt.Errorf("dataset: %s: training batches %v are not numbered 1..%d", dir, nums, len(nums))
		}
		names = append(names, fmt.Sprintf("data_batch_%d.bin", k))
	}
	if len(names) == 0 {
		return nil, errors.New("dataset: " + dir + ": no data_batch_1.bin")
	}
	return names, nil
}
