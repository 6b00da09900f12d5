module github.com/ferminets/fermi

go 1.26
