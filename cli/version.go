package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// develVersion is what a binary built without version information (no
// module version, no version control data) reports.
const develVersion = "(devel)"

// Version returns Parley's version as the build recorded it: the module
// version for `go install …@v1.2.3`; for `go build` in a git checkout the
// version Go derives from the commit (a pseudo-version, "+dirty" with
// uncommitted changes) followed by the commit, its time and whether the
// tree was modified; "(devel)" when the build recorded neither.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return develVersion
	}
	return versionFrom(info)
}

// versionFrom formats the version recorded in info (see Version).
func versionFrom(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = develVersion
	}
	var rev, when string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return v
	}
	var parts []string
	parts = append(parts, "commit "+rev[:min(len(rev), 12)])
	if t, err := time.Parse(time.RFC3339, when); err == nil {
		parts = append(parts, t.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if modified {
		parts = append(parts, "with uncommitted changes")
	}
	return fmt.Sprintf("%s (%s)", v, strings.Join(parts, ", "))
}

// versionLine is what parley --version and parley version print.
func versionLine() string {
	return fmt.Sprintf("parley %s %s %s/%s", Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// versionCommand is "parley version", the same as parley --version.
func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Parley's version",
		Long: `Print Parley's version, the Go version it was built with and the platform. The
version comes from the build: a release's module version, or the git commit of a
checkout it was built from.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(a.env.Stdout, versionLine())
			return err
		},
	}
}
