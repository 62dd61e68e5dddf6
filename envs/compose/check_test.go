package compose

import (
	"errors"
	"strings"
	"testing"
)

// shopCompose is a realistic stack: every key in it is one the engine
// implements, so Check must accept it.
const shopCompose = `
name: shop
services:
  web:
    build:
      context: ./web
      target: dev
      args: {NODE_ENV: development}
    ports: ["3000:3000"]
    environment:
      API_URL: http://api:8080
    depends_on:
      api: {condition: service_healthy}
    volumes: ["./web/src:/app/src:ro"]
  api:
    build: ./api
    command: ["./api", "--listen", ":8080"]
    ports: ["8080:8080"]
    env_file: [api.env]
    depends_on:
      db: {condition: service_healthy, restart: true}
      queue: {condition: service_started}
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://localhost:8080/health"]
      interval: 5s
      retries: 10
    restart: unless-stopped
    mem_limit: 512m
    labels: {team: shop}
    extra_hosts: ["host.docker.internal:host-gateway"]
    networks:
      default:
        aliases: [backend]
  worker:
    image: shop/api:dev
    command: ./worker
    depends_on: [queue, db]
    deploy:
      replicas: 1
      resources:
        limits: {memory: 256M}
    init: true
    stop_grace_period: 30s
    stop_signal: SIGINT
  db:
    image: postgres:16
    container_name: db
    ports: ["5432:5432"]
    environment:
      POSTGRES_PASSWORD: dev
    volumes:
      - pgdata:/var/lib/postgresql/data
      - type: tmpfs
        target: /tmp
        tmpfs: {size: 64m}
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U postgres"]
      interval: 2s
    shm_size: 128m
    ulimits: {nofile: {soft: 1024, hard: 2048}}
  queue:
    image: redis:7
    ports: ["6379:6379"]
    user: "999"
    read_only: true
    tmpfs: [/data]
    cap_drop: [ALL]
    sysctls: {net.core.somaxconn: "1024"}
    x-note: extensions are ours to ignore
volumes:
  pgdata: {}
`

func TestCheckAcceptsRealisticProject(t *testing.T) {
	p, _ := load(t, map[string]string{"compose.yaml": shopCompose, "api.env": "A=1\n"}, Config{})
	if err := Check(p, Config{}); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestCheckRejectsUnsupportedKeys(t *testing.T) {
	tests := []struct {
		name    string
		compose string
		want    []string
	}{
		{
			name: "external secret",
			compose: `
services:
  api: {image: a, secrets: [token]}
secrets:
  token: {external: true}
`,
			want: []string{`secret "token": key "external" is not supported by wtenv: it needs Docker Swarm, which wtenv does not use; remove it, or keep it in a compose file that wtenv.yaml's compose: does not list`},
		},
		{
			name:    "gpus",
			compose: "services:\n  api: {image: a, gpus: all}\n",
			want:    []string{`service "api": key "gpus" is not supported by wtenv: wtenv does not implement it yet`},
		},
		{
			name:    "build.ssh",
			compose: "services:\n  api: {build: {context: ., ssh: [default]}}\n",
			want:    []string{`service "api": key "build.ssh" is not supported`},
		},
		{
			name:    "deploy.replicas above one",
			compose: "services:\n  api: {image: a, deploy: {replicas: 3}}\n",
			want:    []string{`service "api": key "deploy.replicas" has value 3 (wtenv runs one container per service), which is not supported`},
		},
		{
			name:    "global mode",
			compose: "services:\n  api: {image: a, deploy: {mode: global}}\n",
			want:    []string{`service "api": key "deploy.mode" has value "global"`},
		},
		{
			name:    "network address",
			compose: "services:\n  api: {image: a, networks: {default: {ipv4_address: 10.5.0.5}}}\n",
			want:    []string{`service "api": key "networks.ipv4_address" is not supported by wtenv: a fixed address is the same in every worktree's stack`},
		},
		{
			name:    "fixed subnet",
			compose: "services:\n  api: {image: a}\nnetworks:\n  default:\n    ipam: {config: [{subnet: 10.5.0.0/16}]}\n",
			want:    []string{`network "default": key "ipam.config" is not supported by wtenv: a fixed subnet is the same in every worktree's stack`},
		},
		{
			name:    "host network without the opt-in",
			compose: "services:\n  api: {image: a, network_mode: host}\n",
			want:    []string{`service "api": key "network_mode" has value "host", which is not supported by wtenv: the host's network gives every worktree's stack the same ports, so two stacks collide; set host_network: true in wtenv.yaml to run it anyway`},
		},
		{
			name:    "ports in another container's network",
			compose: "services:\n  api: {image: a, network_mode: \"container:db\", ports: [\"80\"]}\n",
			want:    []string{`service "api": key "ports" with network_mode "container:db" is not supported by wtenv: a container in another's network namespace cannot publish ports`},
		},
		{
			name:    "a network name as network_mode",
			compose: "services:\n  api: {image: a, network_mode: mynet}\n",
			want:    []string{`service "api": key "network_mode" has value "mynet", which is not supported by wtenv: a network is joined under networks:`},
		},
		{
			name:    "a remote build context",
			compose: "services:\n  api: {build: {context: \"https://github.com/x/y.git#main\"}}\n",
			want:    []string{`service "api": key "build.context" has value "https://github.com/x/y.git#main", a remote context`},
		},
		{
			name:    "a build network of its own",
			compose: "services:\n  api: {build: {context: ., network: buildnet}}\n",
			want:    []string{`service "api": key "build.network" has value "buildnet"`},
		},
		{
			// A service under a profile up does not enable is built when
			// an enabled one runs its image: its build is checked.
			name:    "the build of a disabled service an enabled one runs",
			compose: "services:\n  base: {image: org/base, profiles: [tools], build: {context: ., ssh: [default]}}\n  app: {image: org/base}\n",
			want:    []string{`service "base": key "build.ssh" is not supported`},
		},
		{
			name: "several, sorted",
			compose: `
services:
  worker: {image: a, annotations: {a: b}}
  api: {image: a, isolation: hyperv, cpu_count: 2}
`,
			want: []string{
				`service "api": key "cpu_count" is not supported by wtenv: it applies to Windows containers only`,
				`service "api": key "isolation" is not supported by wtenv: it applies to Windows containers only`,
				`service "worker": key "annotations"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := load(t, map[string]string{"compose.yaml": tt.compose, "token.txt": "x"}, Config{})
			err := Check(p, Config{})
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Check = %v, want ErrUnsupported", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, want := range tt.want {
				if !strings.HasPrefix(lines[i], want) {
					t.Errorf("problem %d = %q\nwant prefix %q", i, lines[i], want)
				}
			}
		})
	}
}

func TestCheckServiceUnderDisabledProfile(t *testing.T) {
	p, _ := load(t, map[string]string{"compose.yaml": `
services:
  web: {image: a}
  e2e: {image: b, profiles: [test], gpus: all}
`}, Config{})
	if err := Check(p, Config{}); err != nil {
		t.Errorf("Check looked at a disabled service: %v", err)
	}
	if err := CheckService(p.DisabledServices["e2e"], Config{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("CheckService = %v, want ErrUnsupported", err)
	}
}
