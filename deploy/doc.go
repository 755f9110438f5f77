// Package deploy holds Parley's deployment files (nginx.conf, and the
// Kubernetes manifests in kubernetes/, a module of its own whose test
// decodes them with the Kubernetes API types) and the test of the
// container image built from the Dockerfile at the root of the repository,
// which `make image-test` runs. It has no code of its own.
package deploy
