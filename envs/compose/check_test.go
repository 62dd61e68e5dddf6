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
	if err := Check(p); err != nil {
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
			name: "secrets",
			compose: `
services:
  api: {image: a, secrets: [token]}
secrets:
  token: {file: ./token.txt}
`,
			want: []string{`service "api": key "secrets" is not supported by wtenv; remove it, or keep it in a compose file that wtenv.yaml's compose: does not list`},
		},
		{
			name:    "devices",
			compose: "services:\n  api: {image: a, devices: [/dev/fuse]}\n",
			want:    []string{`service "api": key "devices" is not supported`},
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
			name:    "other deploy keys",
			compose: "services:\n  api: {image: a, deploy: {resources: {limits: {cpus: '0.5'}}}}\n",
			want:    []string{`service "api": key "deploy.resources.limits.cpus" is not supported`},
		},
		{
			name:    "platform",
			compose: "services:\n  api: {image: a, platform: linux/arm64}\n",
			want:    []string{`service "api": key "platform" is not supported`},
		},
		{
			name:    "network address",
			compose: "services:\n  api: {image: a, networks: {default: {ipv4_address: 10.5.0.5}}}\n",
			want:    []string{`service "api": key "networks.ipv4_address" is not supported`},
		},
		{
			name:    "fixed subnet",
			compose: "services:\n  api: {image: a}\nnetworks:\n  default:\n    ipam: {config: [{subnet: 10.5.0.0/16}]}\n",
			want:    []string{`network "default": key "ipam" is not supported`},
		},
		{
			name: "several, sorted",
			compose: `
services:
  worker: {image: a, privileged: true}
  api: {image: a, logging: {driver: none}, cpus: 2}
`,
			want: []string{
				`service "api": key "cpus"`,
				`service "api": key "logging"`,
				`service "worker": key "privileged"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := load(t, map[string]string{"compose.yaml": tt.compose, "token.txt": "x"}, Config{})
			err := Check(p)
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
  e2e: {image: b, profiles: [test], privileged: true}
`}, Config{})
	if err := Check(p); err != nil {
		t.Errorf("Check looked at a disabled service: %v", err)
	}
	if err := CheckService(p.DisabledServices["e2e"]); !errors.Is(err, ErrUnsupported) {
		t.Errorf("CheckService = %v, want ErrUnsupported", err)
	}
}
