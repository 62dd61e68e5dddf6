package identity

import (
	"os"
	"runtime"
	"strings"

	"github.com/shirou/gopsutil/v4/host"
)

// MachineEnv names the variable that sets this machine's identity, for
// machines cloned from one image (which share /etc/machine-id) and for
// tests that play several machines on one.
const MachineEnv = "WTENV_HOST_ID"

// Machine is this machine's identity as the dev.wtenv.host label records
// it: WTENV_HOST_ID when set, else DefaultMachine.
func Machine() string {
	if v := strings.TrimSpace(os.Getenv(MachineEnv)); v != "" {
		return v
	}
	return DefaultMachine()
}

// DefaultMachine is the machine's own identity, whatever WTENV_HOST_ID
// says: on Linux the systemd/D-Bus machine id (stable across reboots and
// renames), elsewhere the platform's id (macOS's IOPlatformUUID, Windows's
// MachineGuid), else the host name.
func DefaultMachine() string {
	for _, path := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if b, err := os.ReadFile(path); err == nil {
			if id := strings.TrimSpace(string(b)); id != "" {
				return id
			}
		}
	}
	// On Linux gopsutil would fall back to the boot id, which changes at
	// every boot: the host name is steadier.
	if runtime.GOOS != "linux" {
		if id, err := host.HostID(); err == nil && id != "" {
			return id
		}
	}
	if name, err := os.Hostname(); err == nil && name != "" {
		return name
	}
	return "unknown"
}
