// Command packshot turns one product photo into a marketplace-ready image pack. It is the
// whole service in one binary: `packshot serve` runs the API and the job dispatcher; the
// other subcommands run parts of it or tools around it. `packshot help` lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "packshot:", err)
		}
		os.Exit(1)
	}
}

// env is what every subcommand gets from the outside world; tests supply their own.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand: its one-line summary and the function that runs it with the
// arguments after its name.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands is the table of subcommands; each lives in its own file.
var commands = map[string]command{
	"serve":   {"run the API and the job dispatcher (the default)", cmdServe},
	"migrate": {"apply pending database migrations and exit", cmdMigrate},
	"token":   {"print a bearer token: token -user ID [-role service_role] [-ttl 24h]", cmdToken},
	"pack":    {"render a whole image pack from one photo, offline: pack -in PHOTO -out DIR [flags]", cmdPack},
	"worker":  {"run the job dispatcher without the HTTP API", cmdWorker},
	"bench":   {"benchmarks: bench queue|realtime|api|compare [flags]; the last line is JSON", cmdBench},
	"gen":     {"generate code: gen ts writes the TypeScript AppRouter type of the tRPC API", cmdGen},
}

// run is the whole program: main only adds the process's signals, arguments, environment
// and output streams, so tests can start the real thing.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdout: stdout, stderr: stderr}
	name, rest := "serve", []string(nil)
	if len(args) > 1 {
		name, rest = args[1], args[2:]
	}
	if name == "help" || name == "-h" || name == "--help" {
		usage(stdout)
		return nil
	}
	if len(name) > 0 && name[0] == '-' { // flags for the default command
		name, rest = "serve", args[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		usage(stderr)
		return fmt.Errorf("unknown command %q", name)
	}
	return cmd.run(ctx, e, rest)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: packshot <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `packshot <command> -h` for a command's flags; the README lists the environment variables.")
}

// newFlagSet returns a flag set that reports errors instead of exiting, and prints its
// usage to stderr.
func newFlagSet(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("packshot "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}
