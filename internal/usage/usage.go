// Package usage gives every command of the repository the same -h: exit
// status 0, a first line saying what the command is for, its usage line,
// then its flags, all on stdout. A wrong command line gets two lines on
// stderr, what was wrong and how to see the help, and exit status 2.
//
//	var cmd = usage.Command{Name: "go run ./cmd/local", What: "local runs …", Args: "EVENT.json"}
//
//	fs := flag.NewFlagSet("local", flag.ContinueOnError)
//	… declare the flags …
//	if err := cmd.Parse(fs, args, stdout); err != nil {
//		return cmd.Fail(stderr, err) // 0 after -h, 2 otherwise
//	}
package usage

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses of a command line that was not run.
const (
	ExitHelp  = 0 // -h or -help: the help was printed
	ExitUsage = 2 // the command line was wrong
)

// Command describes a command for its help.
type Command struct {
	// Name is how the command is run, such as "go run ./cmd/local"; the
	// help's usage line and the pointer to -h use it.
	Name string
	// What is one line saying what the command is for: the help's first
	// line.
	What string
	// Args is what follows the flags on the usage line, such as
	// "EVENT.json"; empty when the command takes no argument.
	Args string
	// Synopsis, when set, replaces the usage line "usage: Name [flags]
	// Args": one form per line, for a command with several forms.
	Synopsis string
	// More is printed between the usage line and the flags: paragraphs
	// that say how the command behaves. Optional.
	More string
}

// Help writes the help: What, the usage line, More, then the flags of each
// set in sets (a flag declared in several sets is listed once, as the first
// set declares it), sorted by name.
func (c Command) Help(w io.Writer, sets ...*flag.FlagSet) {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(c.What) + "\n\n")
	if c.Synopsis != "" {
		b.WriteString("usage:\n" + strings.TrimRight(c.Synopsis, "\n") + "\n")
	} else {
		line := "usage: " + c.Name
		if hasFlags(sets) {
			line += " [flags]"
		}
		if c.Args != "" {
			line += " " + c.Args
		}
		b.WriteString(line + "\n")
	}
	if more := strings.Trim(c.More, "\n"); more != "" {
		b.WriteString("\n" + more + "\n")
	}
	io.WriteString(w, b.String())
	if !hasFlags(sets) {
		return
	}
	io.WriteString(w, "\nflags:\n")
	all := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	for _, fs := range sets {
		fs.VisitAll(func(f *flag.Flag) {
			if all.Lookup(f.Name) != nil {
				return
			}
			all.Var(f.Value, f.Name, f.Usage)
			all.Lookup(f.Name).DefValue = f.DefValue // Var takes the current value
		})
	}
	all.SetOutput(w)
	all.PrintDefaults()
}

// Parse parses args into fs, which prints nothing itself. On -h or -help it
// writes the help (with fs's flags) to stdout and returns flag.ErrHelp;
// any other error it returns as it is, for Fail. fs must be made with
// flag.ContinueOnError.
func (c Command) Parse(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		c.Help(stdout, fs)
	}
	return err
}

// Fail reports a command line that was not run and returns the exit
// status: ExitHelp after -h (the help is already printed), else ExitUsage,
// after writing to stderr the last word of Name, err, and how to see the
// help.
func (c Command) Fail(stderr io.Writer, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitHelp
	}
	fields := strings.Fields(c.Name)
	short := c.Name
	if len(fields) > 0 {
		short = fields[len(fields)-1]
		short = short[strings.LastIndex(short, "/")+1:]
	}
	fmt.Fprintf(stderr, "%s: %v\nrun '%s -h' for usage\n", short, err, c.Name)
	return ExitUsage
}

func hasFlags(sets []*flag.FlagSet) bool {
	n := 0
	for _, fs := range sets {
		fs.VisitAll(func(*flag.Flag) { n++ })
	}
	return n > 0
}
