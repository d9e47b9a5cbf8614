package tools

import (
	"slices"
	"strings"
)

// secretSuffixes end the names of variables a child process never sees
// unless its tool lists them in env.
var secretSuffixes = []string{"_API_KEY", "_TOKEN", "_SECRET"}

// ChildEnv is the environment a tool's process runs with: environ minus
// every variable named in hidden (the API-key variables Parley knows of),
// every variable whose name ends in _API_KEY, _TOKEN or _SECRET (in any
// case) and every variable whose value holds secret — except the names
// the tool lists in allowed, which pass whatever they are called.
func ChildEnv(environ, hidden, allowed []string, secret string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		if slices.Contains(allowed, name) {
			out = append(out, kv)
			continue
		}
		if slices.Contains(hidden, name) || secretName(name) || (len(secret) >= 6 && strings.Contains(value, secret)) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// secretName reports whether a variable's name says it holds a secret.
func secretName(name string) bool {
	up := strings.ToUpper(name)
	for _, s := range secretSuffixes {
		if strings.HasSuffix(up, s) {
			return true
		}
	}
	return false
}

// lookupEnv finds a variable in environ; the last definition wins, as in
// the process environment.
func lookupEnv(environ []string, name string) string {
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}
