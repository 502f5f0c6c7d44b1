// Package deploy holds what running sdnli with Docker needs beside the
// repository's Dockerfile and docker-compose.yml: the controller's
// configuration baked into the image. Its test keeps both files in step
// with the binary: every service's subcommand and flags must exist.
package deploy
