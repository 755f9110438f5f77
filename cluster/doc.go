// Package cluster holds the tests that run Parley as it runs in
// production: the real binary as several replicas, behind Debian's nginx
// with deploy/nginx.conf, all on loopback. It has no code of its own.
package cluster
