// Package compose loads a worktree's Docker Compose project and prepares it
// for an isolated stack.
//
// Loading goes through the same loader Docker Compose uses, so a compose file
// that works with Docker Compose works here unchanged: file discovery with
// the override file, .env interpolation, env_file, profiles, extends and
// include. Check then refuses any key the engine does not implement, because
// a key that is silently dropped makes a stack that differs from what the file
// says. Isolate finally rewrites the names and host ports that would collide
// between two worktrees of the same repository.
//
// The package also reads wtenv.yaml, the optional per-worktree configuration.
package compose
