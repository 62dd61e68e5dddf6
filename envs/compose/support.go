package compose

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// rule says how Check treats one compose key. Every key of compose-go's
// types has a rule (support_test.go walks the types to make sure), so a
// key is never dropped without a word: either the engine runs it as
// Docker Compose does, or Check refuses it by name with the reason.
type rule struct {
	// keys, when set, are the rules of the keys under this one.
	keys rules
	// value, when set, checks the key's own value and returns why it is
	// not supported, or "".
	value func(v reflect.Value) string
	// refuse, when set, is why the key cannot run under wtenv and what to
	// do instead; any value refuses it.
	refuse string
}

type rules map[string]rule

// whole accepts a key and all it holds.
var whole = rule{}

// ignored accepts a key that Docker Compose's up does not act on either
// (swarm placement, watch rules): accepting it is running the file as
// Compose runs it.
var ignored = rule{}

// refused builds the rule of a key wtenv does not run.
func refused(why string) rule { return rule{refuse: why} }

// Reasons shared by several refused keys.
const (
	// fixedAddress: two worktrees asking for the same address collide.
	fixedAddress = "a fixed address is the same in every worktree's stack, so two stacks cannot both run; let the engine pick addresses and reach services by name"
	windowsOnly  = "it applies to Windows containers only"
	swarmOnly    = "it needs Docker Swarm, which wtenv does not use"
	newerEngine  = "it needs a Docker Engine API newer than wtenv drives (1.41)"
	notYet       = "wtenv does not implement it yet"
)

// serviceRules are the keys of a service.
var serviceRules = rules{
	// name is the service's key, filled in by the loader.
	"name":       whole,
	"image":      whole,
	"build":      {keys: buildRules},
	"command":    whole,
	"entrypoint": whole,
	// environment and env_file are resolved by the loader.
	"environment": whole,
	"env_file":    whole,
	// label_file is read into labels by the loader.
	"label_file":   whole,
	"labels":       whole,
	"ports":        {keys: portRules},
	"expose":       whole,
	"volumes":      {keys: serviceVolumeRules},
	"volumes_from": whole,
	"tmpfs":        whole,
	"secrets":      {keys: fileReferenceRules},
	"configs":      {keys: fileReferenceRules},
	"networks":     {keys: serviceNetworkRules},
	// network_mode is checked against wtenv.yaml in checkNetworkMode.
	"network_mode":   whole,
	"links":          whole,
	"external_links": whole,
	"extra_hosts":    whole,
	"hostname":       whole,
	"domainname":     whole,
	"dns":            whole,
	"dns_opt":        whole,
	"dns_search":     whole,
	"mac_address":    refused("the Docker client wtenv uses sets a MAC address per network, which needs Engine API 1.44; wtenv drives 1.41"),
	"depends_on": {keys: rules{
		"condition": {value: oneOf(types.ServiceConditionStarted, types.ServiceConditionHealthy, types.ServiceConditionCompletedSuccessfully)},
		"restart":   whole,
		"required":  whole,
	}},
	"healthcheck":        whole,
	"restart":            whole,
	"deploy":             {keys: deployRules},
	"scale":              {value: zeroOrOne},
	"profiles":           whole,
	"container_name":     whole,
	"pull_policy":        whole,
	"pull_refresh_after": whole,
	"platform":           whole,
	"runtime":            whole,
	"working_dir":        whole,
	"user":               whole,
	"group_add":          whole,
	"init":               whole,
	"stop_signal":        whole,
	"stop_grace_period":  whole,
	"tty":                whole,
	"stdin_open":         whole,
	// attach only says whose logs `compose up` follows in the foreground.
	"attach": ignored,
	// extends is resolved by the loader.
	"extends": whole,
	// develop is read by `compose watch`; plain up ignores it.
	"develop":             ignored,
	"logging":             whole,
	"security_opt":        whole,
	"privileged":          whole,
	"read_only":           whole,
	"cap_add":             whole,
	"cap_drop":            whole,
	"devices":             whole,
	"device_cgroup_rules": whole,
	"pid":                 whole,
	"ipc":                 whole,
	"uts":                 whole,
	"userns_mode":         whole,
	"cgroup":              whole,
	"cgroup_parent":       whole,
	"sysctls":             whole,
	"ulimits":             whole,
	"shm_size":            whole,
	"mem_limit":           whole,
	"mem_reservation":     whole,
	"memswap_limit":       whole,
	"mem_swappiness":      whole,
	"oom_kill_disable":    whole,
	"oom_score_adj":       whole,
	"pids_limit":          whole,
	"cpus":                whole,
	"cpu_shares":          whole,
	"cpu_quota":           whole,
	"cpu_period":          whole,
	"cpu_rt_period":       whole,
	"cpu_rt_runtime":      whole,
	"cpuset":              whole,
	"storage_opt":         whole,
	"cpu_count":           refused(windowsOnly),
	"cpu_percent":         refused(windowsOnly),
	"credential_spec":     refused(windowsOnly),
	"isolation":           refused(windowsOnly),
	"annotations":         refused(newerEngine),
	"use_api_socket":      refused("it hands the container the host's Docker credentials and socket, which would let it reach every other worktree's stack"),
	"blkio_config":        whole,
	"gpus":                refused(notYet),
	"models":              refused(notYet),
	"provider":            refused(notYet),
	"pre_start":           refused(notYet),
	"post_start":          refused(notYet),
	"pre_stop":            refused(notYet),
	"umask":               refused(notYet),
	"volume_driver":       refused("only the local volume driver runs here"),
	"log_driver":          refused("it is the legacy spelling; write logging: {driver: …, options: …}"),
	"log_opt":             refused("it is the legacy spelling; write logging: {driver: …, options: …}"),
	"net":                 refused("it is the legacy spelling; write network_mode:"),
	"dockerfile":          refused("write it under build: as build.dockerfile"),
}

// buildRules are the keys of a service's build.
var buildRules = rules{
	"context":             {value: localContext},
	"dockerfile":          whole,
	"dockerfile_inline":   whole,
	"args":                whole,
	"target":              whole,
	"labels":              whole,
	"secrets":             {keys: fileReferenceRules},
	"no_cache":            whole,
	"network":             {value: oneOf("default", "host", "none")},
	"extra_hosts":         whole,
	"shm_size":            whole,
	"additional_contexts": whole,
	"platforms":           whole,
	"tags":                whole,
	"pull":                whole,
	"cache_from":          refused("a build cache in a registry needs the registry; local builds already reuse the engine's cache"),
	"cache_to":            refused("a build cache in a registry needs the registry; local builds already reuse the engine's cache"),
	"no_cache_filter":     refused(notYet),
	"ssh":                 refused(notYet),
	"entitlements":        refused(notYet),
	"privileged":          refused(notYet),
	"ulimits":             refused(notYet),
	"provenance":          refused("attestations are pushed with an image, and wtenv builds only for the local engine"),
	"sbom":                refused("attestations are pushed with an image, and wtenv builds only for the local engine"),
	"isolation":           refused(windowsOnly),
}

// portRules are the keys of a published port. mode and app_protocol do
// not change what a single engine does.
var portRules = rules{
	"name": whole, "mode": whole, "host_ip": whole, "target": whole,
	"published": whole, "protocol": whole, "app_protocol": whole,
}

// serviceVolumeRules are the keys of a service's volume or mount.
var serviceVolumeRules = rules{
	"type":      {value: oneOf(types.VolumeTypeVolume, types.VolumeTypeBind, types.VolumeTypeTmpfs)},
	"source":    whole,
	"target":    whole,
	"read_only": whole,
	// consistency tunes file sharing on Docker Desktop for Mac; the
	// engine accepts and ignores it elsewhere.
	"consistency": whole,
	"bind": {keys: rules{
		"create_host_path": whole,
		"propagation":      whole,
		"selinux":          {value: oneOf("z", "Z")},
		"recursive":        refused(newerEngine),
	}},
	"volume": {keys: rules{
		"nocopy":  whole,
		"labels":  whole,
		"subpath": refused(newerEngine),
	}},
	"tmpfs": {keys: rules{"size": whole, "mode": whole}},
	"image": refused(newerEngine),
}

// fileReferenceRules are the keys of a service's use of a secret or
// config.
var fileReferenceRules = rules{
	"source": whole, "target": whole, "uid": whole, "gid": whole, "mode": whole,
}

var serviceNetworkRules = rules{
	"aliases":                whole,
	"priority":               whole,
	"driver_opts":            whole,
	"use_service_name_alias": refused(newerEngine),
	"gw_priority":            refused(newerEngine),
	"interface_name":         refused(newerEngine),
	"ipv4_address":           refused(fixedAddress),
	"ipv6_address":           refused(fixedAddress),
	"link_local_ips":         refused(fixedAddress),
	"mac_address":            refused(fixedAddress),
}

var deployRules = rules{
	"replicas": {value: zeroOrOne},
	"mode":     {value: oneOf("replicated")},
	"resources": {keys: rules{
		"limits":       {keys: resourceRules},
		"reservations": {keys: resourceRules},
	}},
	"restart_policy": {keys: rules{
		"condition":    {value: oneOf("none", "no", "on-failure", "unless-stopped", "any", "always")},
		"max_attempts": whole,
		// Compose's up leaves delay and window to swarm.
		"delay":  ignored,
		"window": ignored,
	}},
	// These steer swarm; Compose's up ignores them.
	"labels":          ignored,
	"update_config":   ignored,
	"rollback_config": ignored,
	"placement":       ignored,
	"endpoint_mode":   ignored,
}

var resourceRules = rules{
	"cpus":              whole,
	"memory":            whole,
	"pids":              whole,
	"devices":           refused(notYet),
	"generic_resources": refused(swarmOnly),
}

// networkRules and volumeRules are the keys of top-level networks and
// volumes.
var networkRules = rules{
	"name":        whole,
	"external":    whole,
	"labels":      whole,
	"internal":    whole,
	"attachable":  whole,
	"driver":      {value: oneOf("bridge")},
	"driver_opts": whole,
	"ipam": {keys: rules{
		"driver":  {value: oneOf("default")},
		"options": whole,
		"config":  refused("a fixed subnet is the same in every worktree's stack, so two stacks cannot both run; remove ipam.config and let the engine pick the subnet"),
	}},
	"enable_ipv4": refused(newerEngine),
	"enable_ipv6": refused(notYet),
}

var volumeRules = rules{
	"name":        whole,
	"external":    whole,
	"labels":      whole,
	"driver":      {value: oneOf("local")},
	"driver_opts": whole,
}

// fileObjectRules are the keys of a top-level secret or config: its
// content comes from a file, an environment variable or (configs) the
// file itself.
var fileObjectRules = rules{
	"name":            whole,
	"file":            whole,
	"environment":     whole,
	"content":         whole,
	"labels":          ignored,
	"external":        refused(swarmOnly),
	"driver":          refused(swarmOnly),
	"driver_opts":     refused(swarmOnly),
	"template_driver": refused(swarmOnly),
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

// localContext accepts a build context that is a folder: a Git or URL
// context would be fetched from a remote, and wtenv builds what the
// worktree holds.
func localContext(v reflect.Value) string {
	c := v.String()
	if strings.Contains(c, "://") || strings.HasPrefix(c, "git@") || strings.HasPrefix(c, "github.com/") {
		return fmt.Sprintf("value %q, a remote context (clone it into the worktree and point context at the folder)", c)
	}
	return ""
}

// zeroOrOne accepts an unset count, 0 (the service is not started, as in
// Compose) or 1: the engine runs one container per service.
func zeroOrOne(v reflect.Value) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if n := v.Int(); n != 0 && n != 1 {
		return fmt.Sprintf("value %d (wtenv runs one container per service)", n)
	}
	return ""
}
