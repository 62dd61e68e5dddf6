package enginetest

import (
	"context"
	"testing"

	"github.com/moby/moby/client"
)

// Leftovers lists, as "kind name", every container, network, volume and
// image carrying the label (key=value): what a leak check expects to be
// empty once a stack is down with --purge.
func Leftovers(ctx context.Context, t testing.TB, label string) []string {
	t.Helper()
	api, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	f := client.Filters{}.Add("label", label)
	var out []string
	cs, err := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs.Items {
		out = append(out, "container "+c.Names[0][1:])
	}
	ns, err := api.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns.Items {
		out = append(out, "network "+n.Name)
	}
	vs, err := api.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs.Items {
		out = append(out, "volume "+v.Name)
	}
	is, err := api.ImageList(ctx, client.ImageListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range is.Items {
		out = append(out, "image "+im.ID[7:19])
	}
	return out
}
