package compose

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
)

// rule says how Check treats one compose key. A key with no rule is
// unsupported as soon as it has a value. A rule with neither field accepts
// the key and everything under it; a rule with an empty keys map accepts the
// key but nothing set under it.
type rule struct {
	// keys, when set, are the supported keys under this one; the others
	// are unsupported.
	keys rules
	// value, when set, checks the key's own value and returns why it is
	// not supported, or "".
	value func(v reflect.Value) string
}

type rules map[string]rule

// whole accepts a key and all it holds.
var whole = rule{}

// serviceRules are the service keys the engine implements. Keys compose-go
// fills on its own (name, the implicit default network, resolved
// environment) are either listed or carry no yaml name, so a plain file
// passes.
var serviceRules = rules{
	// name is the service's key, filled in by the loader.
	"name":  whole,
	"image": whole,
	"build": {keys: rules{
		"context": whole, "dockerfile": whole, "args": whole, "target": whole,
	}},
	"command":     whole,
	"entrypoint":  whole,
	"environment": whole,
	"env_file":    whole,
	// label_file is read into labels by the loader.
	"label_file": whole,
	"ports":      whole,
	"expose":     whole,
	"volumes": {keys: rules{
		"type":      {value: oneOf(types.VolumeTypeVolume, types.VolumeTypeBind, types.VolumeTypeTmpfs)},
		"source":    whole,
		"target":    whole,
		"read_only": whole,
		"bind":      {keys: rules{"create_host_path": whole}},
		"volume":    {keys: rules{}},
		"tmpfs":     {keys: rules{"size": whole, "mode": whole}},
	}},
	"networks": {keys: rules{"aliases": whole}},
	"depends_on": {keys: rules{
		"condition": {value: oneOf(types.ServiceConditionStarted, types.ServiceConditionHealthy, types.ServiceConditionCompletedSuccessfully)},
		"restart":   whole,
		"required":  whole,
	}},
	"healthcheck": whole,
	"restart":     whole,
	"mem_limit":   whole,
	"deploy": {keys: rules{
		"replicas":  {value: one},
		"resources": {keys: rules{"limits": {keys: rules{"memory": whole}}}},
	}},
	"scale":             {value: one},
	"working_dir":       whole,
	"user":              whole,
	"labels":            whole,
	"extra_hosts":       whole,
	"init":              whole,
	"stop_signal":       whole,
	"stop_grace_period": whole,
	"profiles":          whole,
	"container_name":    whole,
	"pull_policy":       whole,
	"hostname":          whole,
	"tty":               whole,
	"stdin_open":        whole,
	"tmpfs":             whole,
	"read_only":         whole,
	"cap_add":           whole,
	"cap_drop":          whole,
	"shm_size":          whole,
	"domainname":        whole,
	"sysctls":           whole,
	"ulimits":           whole,
}

// networkRules and volumeRules are the keys of top-level networks and
// volumes the engine implements. Fixed subnets are left out on purpose: two
// worktrees asking for the same subnet cannot both run.
var networkRules = rules{
	"name":     whole,
	"external": whole,
	"labels":   whole,
	"internal": whole,
	"driver":   {value: oneOf("bridge")},
}

var volumeRules = rules{
	"name":        whole,
	"external":    whole,
	"labels":      whole,
	"driver":      {value: oneOf("local")},
	"driver_opts": whole,
}

// oneOf accepts the empty string or one of the given values.
func oneOf(valid ...string) func(reflect.Value) string {
	return func(v reflect.Value) string {
		if s := v.String(); s != "" && !slices.Contains(valid, s) {
			return fmt.Sprintf("value %q (supported: %v)", s, valid)
		}
		return ""
	}
}

// one accepts an unset count or 1: the engine runs one container per
// service.
func one(v reflect.Value) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Int() != 1 {
		return fmt.Sprintf("value %d (wtenv runs one container per service)", v.Int())
	}
	return ""
}
