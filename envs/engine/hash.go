package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/compose-spec/compose-go/v2/types"
)

// configHash is the com.docker.compose.config-hash of a service: a digest of
// its configuration without the fields that do not change the container
// (how the image is obtained, scale, dependencies, profiles), as compose
// computes it. A changed hash means the container must be recreated.
func configHash(s types.ServiceConfig) (string, error) {
	c := s
	c.Build = nil
	c.PullPolicy = ""
	c.Scale = nil
	if c.Deploy != nil {
		d := *c.Deploy
		d.Replicas = nil
		c.Deploy = &d
	}
	c.DependsOn = nil
	c.Profiles = nil
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
