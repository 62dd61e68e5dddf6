package stack

import (
	"slices"
	"testing"
)

func TestAddresses(t *testing.T) {
	st := Stack{Services: []Service{
		{Name: "order-api", Ports: []Port{
			{ContainerPort: 8080, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 21480, URL: "http://127.0.0.1:21480"},
			{ContainerPort: 9090, Protocol: "udp", HostIP: "0.0.0.0", HostPort: 21481},
		}},
		{Name: "db", Ports: []Port{{ContainerPort: 5432, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 21500, URL: "postgres://127.0.0.1:21500/shop__shop_main_1a2b"}},
			Shared: &SharedUse{Project: "shop-shared-9f00", Databases: []string{"shop__shop_main_1a2b"}}},
	}}
	got := map[string]string{}
	var names []string
	for _, v := range st.Addresses() {
		got[v.Name] = v.Value
		names = append(names, v.Name)
	}
	want := map[string]string{
		"WTENV_ORDER_API_URL":       "http://127.0.0.1:21480",
		"WTENV_ORDER_API_8080_PORT": "21480",
		"WTENV_ORDER_API_9090_URL":  "udp://127.0.0.1:21481",
		"WTENV_ORDER_API_9090_HOST": "127.0.0.1",
		"WTENV_DB_URL":              "postgres://127.0.0.1:21500/shop__shop_main_1a2b",
		"WTENV_DB_5432_PORT":        "21500",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["WTENV_ORDER_API_9090_URL"]; !ok || slices.Contains(names, "WTENV_ORDER_API_PORT") && got["WTENV_ORDER_API_PORT"] != "21480" {
		t.Errorf("the first port is the service's: %v", got)
	}
}
