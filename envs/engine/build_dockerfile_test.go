package engine

import (
	"reflect"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestParseDockerfileFindsWhatOnlyBuildKitBuildsAndTheImagesUsed(t *testing.T) {
	base := "shop/base:2"
	for _, c := range []struct {
		name, data      string
		syntax, kitOnly string
		images          []string
	}{
		{name: "plain", data: "FROM alpine\nRUN true\n", images: []string{"alpine"}},
		{name: "syntax", data: "# syntax=docker/dockerfile:1.4\nFROM scratch\n", syntax: "docker/dockerfile:1.4"},
		{name: "mount", data: "FROM alpine\nRUN --mount=type=cache,target=/c true\n", kitOnly: "line 2: RUN --mount=type=cache,target=/c", images: []string{"alpine"}},
		{name: "heredoc", data: "FROM alpine\nRUN <<EOF\ntrue\nEOF\n", kitOnly: "line 2: a heredoc (RUN <<EOF)", images: []string{"alpine"}},
		{name: "link", data: "FROM alpine\nCOPY --link a /a\n", kitOnly: "line 2: COPY --link", images: []string{"alpine"}},
		{
			name:   "stages and args",
			data:   "ARG BASE=shop/base:1\nFROM ${BASE} AS build\nFROM build\nCOPY --from=build /a /a\nCOPY --from=0 /a /a\nCOPY --from=tools:1 /t /t\nRUN --mount=type=bind,from=cache:1,target=/c true\nFROM scratch\n",
			images: []string{"shop/base:2", "tools:1", "cache:1"}, kitOnly: "line 7: RUN --mount=type=bind,from=cache:1,target=/c",
		},
	} {
		df, err := parseDockerfile([]byte(c.data), types.MappingWithEquals{"BASE": &base}, "", "Dockerfile", "Dockerfile")
		if err != nil {
			t.Fatal(err)
		}
		if df.syntax != c.syntax || df.kitOnly != c.kitOnly || !reflect.DeepEqual(df.images, c.images) {
			t.Errorf("%s: syntax %q, BuildKit only %q, images %q; want %q, %q, %q", c.name, df.syntax, df.kitOnly, df.images, c.syntax, c.kitOnly, c.images)
		}
	}
}

func TestImageNamesCompareNormalized(t *testing.T) {
	if imageKey("shop/app") != imageKey("docker.io/shop/app:latest") || imageKey("app") == imageKey("app:2") {
		t.Error("imageKey")
	}
	if contextName("docker.io/library/base:latest") != "base" || contextName("shop/app:2") != "shop/app:2" {
		t.Error("contextName")
	}
}
