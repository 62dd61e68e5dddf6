package stack

import (
	"fmt"
	"strconv"
	"strings"
)

// Variable is one name=value of a stack's addresses.
type Variable struct {
	Name, Value string
}

// Addresses are the stack's addresses as environment variables, for
// processes on the host (a host test suite, `wtenv env`):
// WTENV_<SERVICE>_URL, _HOST and _PORT for each service's first published
// port, and WTENV_<SERVICE>_<PORT>_URL, _HOST and _PORT for every
// published container port. A shared database's URL names the
// worktree's own database.
func (st Stack) Addresses() []Variable {
	var out []Variable
	for _, s := range st.Services {
		name := envName(s.Name)
		for i, p := range s.Ports {
			host := p.HostIP
			if host == "" || host == "0.0.0.0" {
				host = "127.0.0.1"
			}
			url := p.URL
			if url == "" {
				url = fmt.Sprintf("%s://%s:%d", p.Protocol, host, p.HostPort)
			}
			prefixes := []string{fmt.Sprintf("WTENV_%s_%d_", name, p.ContainerPort)}
			if i == 0 {
				prefixes = append(prefixes, "WTENV_"+name+"_")
			}
			for _, pre := range prefixes {
				out = append(out, Variable{pre + "URL", url}, Variable{pre + "HOST", host}, Variable{pre + "PORT", strconv.Itoa(p.HostPort)})
			}
		}
	}
	return out
}

// envName turns a service name into an environment variable part:
// "order-api" → "ORDER_API".
func envName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, s)
}
