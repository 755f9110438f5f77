package kubernetes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// kustomization is the part of kustomize's Kustomization that
// kustomization.yaml uses; decoding it strictly fails on anything else.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// manifests are the objects of deploy/kubernetes, decoded.
type manifests struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	configMap  *corev1.ConfigMap
	secret     *corev1.Secret // secret.example.yaml
	pdb        *policyv1.PodDisruptionBudget
	hpa        *autoscalingv2.HorizontalPodAutoscaler
	kustomize  *kustomization
	files      []string // every manifest, by file name
}

// load decodes every YAML file of this directory strictly: an unknown or
// repeated field, a value of the wrong type, or a kind this test does not
// know fails the test.
func load(t *testing.T) *manifests {
	t.Helper()
	names, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := &manifests{files: names}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("\n---")) {
			t.Errorf("%s: holds several documents; keep one object a file", name)
			continue
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(data, &meta); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var obj any
		switch gvk := meta.APIVersion + " " + meta.Kind; gvk {
		case "apps/v1 Deployment":
			m.deployment = new(appsv1.Deployment)
			obj = m.deployment
		case "v1 Service":
			m.service = new(corev1.Service)
			obj = m.service
		case "v1 ConfigMap":
			m.configMap = new(corev1.ConfigMap)
			obj = m.configMap
		case "v1 Secret":
			m.secret = new(corev1.Secret)
			obj = m.secret
		case "policy/v1 PodDisruptionBudget":
			m.pdb = new(policyv1.PodDisruptionBudget)
			obj = m.pdb
		case "autoscaling/v2 HorizontalPodAutoscaler":
			m.hpa = new(autoscalingv2.HorizontalPodAutoscaler)
			obj = m.hpa
		case "kustomize.config.k8s.io/v1beta1 Kustomization":
			m.kustomize = new(kustomization)
			obj = m.kustomize
		default:
			t.Errorf("%s: %q is not a kind this test knows; teach it", name, gvk)
			continue
		}
		if err := yaml.UnmarshalStrict(data, obj); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for what, missing := range map[string]bool{
		"Deployment": m.deployment == nil, "Service": m.service == nil, "ConfigMap": m.configMap == nil,
		"Secret (example)": m.secret == nil, "PodDisruptionBudget": m.pdb == nil,
		"HorizontalPodAutoscaler": m.hpa == nil, "Kustomization": m.kustomize == nil,
	} {
		if missing {
			t.Errorf("deploy/kubernetes has no %s", what)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return m
}

// TestStrictDecoding shows that load would catch a misspelt field.
func TestStrictDecoding(t *testing.T) {
	data := []byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replica: 2\n")
	if err := yaml.UnmarshalStrict(data, new(appsv1.Deployment)); err == nil {
		t.Fatal("yaml.UnmarshalStrict of a Deployment with spec.replica = nil, want an unknown field error")
	}
}

func TestKustomization(t *testing.T) {
	m := load(t)
	for _, name := range m.files {
		listed := slices.Contains(m.kustomize.Resources, name)
		switch {
		case name == "kustomization.yaml":
		case strings.HasSuffix(name, ".example.yaml") && listed:
			t.Errorf("kustomization.yaml applies %s, an example with placeholder secrets", name)
		case !strings.HasSuffix(name, ".example.yaml") && !listed:
			t.Errorf("kustomization.yaml does not apply %s", name)
		}
	}
	for _, r := range m.kustomize.Resources {
		if !slices.Contains(m.files, r) {
			t.Errorf("kustomization.yaml applies %s, which does not exist", r)
		}
	}
	c := container(t, m)
	if len(m.kustomize.Images) != 1 || m.kustomize.Images[0].Name != c.Image {
		t.Errorf("kustomization.yaml sets images %+v, want one entry for the container's image %q", m.kustomize.Images, c.Image)
	}
}

// container returns the Deployment's one container.
func container(t *testing.T, m *manifests) *corev1.Container {
	t.Helper()
	cs := m.deployment.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("the Deployment has %d containers, want 1", len(cs))
	}
	return &cs[0]
}

// containerPort returns the port of c that p names, by name or number.
func containerPort(c *corev1.Container, p intstr.IntOrString) (corev1.ContainerPort, bool) {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp, true
		}
	}
	return corev1.ContainerPort{}, false
}

func TestProbes(t *testing.T) {
	m := load(t)
	c := container(t, m)
	routes := getRoutes(t)
	port, ok := containerPort(c, intstr.FromString("http"))
	if !ok || port.ContainerPort != 8080 {
		t.Fatalf("the container's ports are %+v, want one named http on 8080, where the image listens", c.Ports)
	}
	for _, tt := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"readinessProbe", c.ReadinessProbe, "/api/ready"},
		{"livenessProbe", c.LivenessProbe, "/api/health"},
		{"startupProbe", c.StartupProbe, "/api/health"},
	} {
		if tt.probe == nil || tt.probe.HTTPGet == nil {
			t.Errorf("the container's %s is %+v, want an HTTP GET of %s", tt.name, tt.probe, tt.path)
			continue
		}
		get := tt.probe.HTTPGet
		if get.Path != tt.path {
			t.Errorf("the container's %s asks %s, want %s", tt.name, get.Path, tt.path)
		}
		if !slices.Contains(routes, get.Path) {
			t.Errorf("the container's %s asks %s, which docs/openapi.json (held to the server's routes) has no GET for", tt.name, get.Path)
		}
		if p, ok := containerPort(c, get.Port); !ok || p.ContainerPort != port.ContainerPort {
			t.Errorf("the container's %s asks port %s, which is not the container's http port", tt.name, get.Port.String())
		}
	}
	if addr := envValue(c, "PARLEY_ADDR"); addr != fmt.Sprintf(":%d", port.ContainerPort) {
		t.Errorf("the container sets PARLEY_ADDR=%q, want :%d, its http port", addr, port.ContainerPort)
	}
	metrics, ok := containerPort(c, intstr.FromString("metrics"))
	if addr := m.configMap.Data["PARLEY_METRICS_ADDR"]; !ok || addr != fmt.Sprintf(":%d", metrics.ContainerPort) {
		t.Errorf("configmap.yaml sets PARLEY_METRICS_ADDR=%q; want it on the container's port named metrics (%+v)", addr, metrics)
	}
	for _, p := range m.service.Spec.Ports {
		if p.TargetPort == intstr.FromString("metrics") || p.TargetPort == intstr.FromInt32(metrics.ContainerPort) {
			t.Errorf("the Service exposes the metrics port (%s), which is for the operator's scraper only", p.Name)
		}
	}
}

// getRoutes returns the paths that docs/openapi.json documents a GET for.
func getRoutes(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("docs/openapi.json: %v", err)
	}
	var paths []string
	for p, ops := range doc.Paths {
		if _, ok := ops["get"]; ok {
			paths = append(paths, p)
		}
	}
	return paths
}

func envValue(c *corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func TestSecurity(t *testing.T) {
	m := load(t)
	pod := m.deployment.Spec.Template.Spec
	c := container(t, m)
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("the pod's securityContext is %+v, want runAsNonRoot and a runAsUser other than 0", sc)
	}
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("the container has no securityContext")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("the container's root filesystem is writable, want readOnlyRootFilesystem")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("the container may escalate privileges, want allowPrivilegeEscalation: false")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("the container's capabilities are %+v, want ALL dropped and none added", sc.Capabilities)
	}
	for _, list := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if q, ok := list[r]; !ok || q.IsZero() {
				t.Errorf("the container's resources are %+v, want requests and limits of cpu and memory", c.Resources)
			}
		}
	}
	mounted := false
	for _, v := range c.VolumeMounts {
		mounted = mounted || v.MountPath == "/tmp"
	}
	if !mounted {
		t.Error("the container mounts nothing at /tmp, where SQLite and Go write temporary files on a read-only root")
	}
}

// TestSettings holds the Deployment's environment to Parley's settings,
// which .env.example lists (its own test holds it to the server), and its
// references to the ConfigMap and Secret that exist.
func TestSettings(t *testing.T) {
	m := load(t)
	c := container(t, m)
	settings := settingNames(t)
	for k := range m.configMap.Data {
		if !slices.Contains(settings, k) {
			t.Errorf("configmap.yaml sets %s, which is not a setting of Parley (.env.example)", k)
		}
	}
	for _, e := range c.Env {
		if !slices.Contains(settings, e.Name) {
			t.Errorf("the container sets %s, which is not a setting of Parley (.env.example)", e.Name)
		}
		if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil {
			key := ref.SecretKeyRef
			if _, ok := m.secret.StringData[key.Key]; key.Name != m.secret.Name || !ok {
				t.Errorf("%s comes from secret %s, key %s, which secret.example.yaml does not show", e.Name, key.Name, key.Key)
			}
		}
	}
	for _, want := range []string{"PARLEY_DATABASE", "PARLEY_REDIS_URL"} {
		found := false
		for _, e := range c.Env {
			found = found || (e.Name == want && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil)
		}
		if !found {
			t.Errorf("the container does not take %s from a Secret", want)
		}
	}
	fromConfigMap := false
	for _, src := range c.EnvFrom {
		fromConfigMap = fromConfigMap || (src.ConfigMapRef != nil && src.ConfigMapRef.Name == m.configMap.Name)
	}
	if !fromConfigMap {
		t.Errorf("the container's envFrom %+v does not name the ConfigMap %s", c.EnvFrom, m.configMap.Name)
	}
	if p := m.configMap.Data["PARLEY_PROFILE"]; p != "production" {
		t.Errorf("configmap.yaml sets PARLEY_PROFILE=%q, want production", p)
	}
}

// settingNames returns the PARLEY_ variables that .env.example lists.
func settingNames(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		name, _, ok := strings.Cut(strings.TrimPrefix(s.Text(), "# "), "=")
		if ok && strings.HasPrefix(name, "PARLEY_") && !strings.Contains(name, " ") {
			names = append(names, name)
		}
	}
	if len(names) < 10 {
		t.Fatalf(".env.example lists %d settings: %q", len(names), names)
	}
	return names
}

// TestShutdown checks that the grace period leaves room for the preStop
// pause and then the whole drain.
func TestShutdown(t *testing.T) {
	m := load(t)
	pod := m.deployment.Spec.Template.Spec
	c := container(t, m)
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Fatalf("the container's preStop is not a sleep action (the image has no sleep program): %+v", c.Lifecycle)
	}
	pause := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	drain, err := time.ParseDuration(m.configMap.Data["PARLEY_SHUTDOWN_TIMEOUT"])
	if err != nil {
		t.Fatalf("configmap.yaml's PARLEY_SHUTDOWN_TIMEOUT: %v", err)
	}
	if pod.TerminationGracePeriodSeconds == nil {
		t.Fatal("the pod sets no terminationGracePeriodSeconds")
	}
	grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	if pause <= 0 || grace < pause+drain+time.Second {
		t.Errorf("terminationGracePeriodSeconds %v, preStop sleep %v, PARLEY_SHUTDOWN_TIMEOUT %v: want a pause, and a grace period above pause + drain", grace, pause, drain)
	}
}

// TestSelectors checks that the Service, the PodDisruptionBudget and the
// HorizontalPodAutoscaler all find the Deployment's pods.
func TestSelectors(t *testing.T) {
	m := load(t)
	d := m.deployment
	pods := labels.Set(d.Spec.Template.Labels)
	c := container(t, m)

	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || !selector.Matches(pods) {
		t.Errorf("the Deployment's selector %v does not match its pods' labels %v (%v)", d.Spec.Selector, pods, err)
	}
	if sel := labels.SelectorFromSet(m.service.Spec.Selector); len(m.service.Spec.Selector) == 0 || !sel.Matches(pods) {
		t.Errorf("the Service's selector %v does not match the pods' labels %v", m.service.Spec.Selector, pods)
	}
	for _, p := range m.service.Spec.Ports {
		if cp, ok := containerPort(c, p.TargetPort); !ok || cp.Protocol != p.Protocol {
			t.Errorf("the Service's port %s targets %s, which is not a %s port of the container", p.Name, p.TargetPort.String(), p.Protocol)
		}
	}
	if len(m.service.Spec.Ports) == 0 {
		t.Error("the Service has no ports")
	}

	pdb, err := metav1.LabelSelectorAsSelector(m.pdb.Spec.Selector)
	if err != nil || pdb.Empty() || !pdb.Matches(pods) {
		t.Errorf("the PodDisruptionBudget's selector %v does not match the pods' labels %v (%v)", m.pdb.Spec.Selector, pods, err)
	}

	ref := m.hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != d.Name {
		t.Errorf("the HorizontalPodAutoscaler scales %+v, want the Deployment %s", ref, d.Name)
	}
	min := m.hpa.Spec.MinReplicas
	if min == nil || *min < 2 {
		t.Errorf("the HorizontalPodAutoscaler's minReplicas is %v, want at least 2", min)
	} else if ma := m.pdb.Spec.MinAvailable; ma == nil || ma.Type != intstr.Int || ma.IntVal >= *min {
		t.Errorf("the PodDisruptionBudget's minAvailable is %v, want a number below the HPA's minReplicas %d, so that a node can drain", ma, *min)
	}
	for _, metric := range m.hpa.Spec.Metrics {
		if metric.Resource != nil {
			if _, ok := c.Resources.Requests[metric.Resource.Name]; !ok {
				t.Errorf("the HorizontalPodAutoscaler scales by %s, which the container does not request", metric.Resource.Name)
			}
		}
	}
}
