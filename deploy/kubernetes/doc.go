// Package kubernetes holds Parley's Kubernetes manifests, and the test
// that decodes each of them strictly with the Kubernetes API types and
// holds them to each other and to the server: probes on real routes,
// ports, selectors and names that match, and a grace period that leaves
// room for the drain. It is a module of its own, so that the server's
// module does not depend on the Kubernetes API.
package kubernetes
