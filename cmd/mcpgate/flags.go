package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// parseFlags parses a command's flags. On -h or --help it prints the
// command's usage to stdout and returns flag.ErrHelp, which exits 0 (see
// exitCode); a bad flag prints the error and the usage to the flag set's
// output, stderr. Usage functions write to fs.Output() for this.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	usage := fs.Usage
	if usage == nil {
		usage = func() {
			fmt.Fprintf(fs.Output(), "usage: %s [flags]\n", fs.Name())
			fs.PrintDefaults()
		}
	}
	fs.Usage = func() {} // printed below, on the stream it belongs to
	defer func() { fs.Usage = usage }()
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		out := fs.Output()
		fs.SetOutput(stdout)
		usage()
		fs.SetOutput(out)
	case err != nil:
		usage()
	}
	return err
}

// exitCode is the exit code of a parse error: 0 for a help request, 2
// (usage error) otherwise.
func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// parseInterspersed is parseFlags letting flags follow the positional
// arguments (`pin URL -o FILE`), where the flag package alone stops.
func parseInterspersed(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args, stdout); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
