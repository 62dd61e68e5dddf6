package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/stack"
)

var envCmd = command{
	name:    "env",
	summary: "print the stack's addresses as variables (WTENV_<SERVICE>_URL|HOST|PORT), for processes run on the host",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		format := fs.String("format", "dotenv", "dotenv (NAME=value), shell (export NAME='value'; for eval) or json")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: env takes no arguments", errUsage)
			}
			if *format != "dotenv" && *format != "shell" && *format != "json" {
				return fmt.Errorf("%w: -format %q: use dotenv, shell or json", errUsage, *format)
			}
			return withEnv(ctx, g, func(env *envs.Env) error {
				st, err := env.Status(ctx)
				if err != nil {
					return err
				}
				if len(st.Services) == 0 {
					return fmt.Errorf("%s has no stack: run `wtenv up` first", st.Project)
				}
				return printEnv(g, st.Addresses(), *format)
			})
		}
	},
}

func printEnv(g *globals, vars []stack.Variable, format string) error {
	switch format {
	case "json":
		m := make(map[string]string, len(vars))
		for _, v := range vars {
			m[v.Name] = v.Value
		}
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	case "shell":
		for _, v := range vars {
			fmt.Fprintf(g.stdout, "export %s='%s'\n", v.Name, strings.ReplaceAll(v.Value, "'", `'\''`))
		}
	default:
		for _, v := range vars {
			fmt.Fprintf(g.stdout, "%s=%s\n", v.Name, v.Value)
		}
	}
	return nil
}
