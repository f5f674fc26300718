// knative-validate runs Knative's own admission logic (the defaulting and validating webhooks of Knative Serving
// and Eventing: SetDefaults, then Validate) on manifests, offline. It is a test tool of the manifests test
// (tests/cluster/manifests.test.ts), built from the Knative modules this go.mod pins.
//
// Usage: knative-validate -serving <knative.dev/serving module dir> -eventing <knative.dev/eventing module dir>
//
// stdin: a JSON array of Knative objects. stdout: a JSON array, one {kind, name, errors, warnings} per object.
// The Knative ConfigMaps that steer validation (feature flags, defaults, autoscaler, broker and ping defaults) are
// read from the modules' config/core/configmaps, i.e. a stock installation of that Knative release. Objects are
// decoded strictly (unknown fields are errors), as Knative's webhooks do.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	eventingconfig "knative.dev/eventing/pkg/apis/config"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/eventing/pkg/apis/feature"
	sourcesconfig "knative.dev/eventing/pkg/apis/sources/config"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	"knative.dev/pkg/apis"
	servingconfig "knative.dev/serving/pkg/apis/config"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	autoscalerconfig "knative.dev/serving/pkg/autoscaler/config"
)

type object interface {
	apis.Defaultable
	apis.Validatable
}

type result struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Name       string   `json:"name"`
	Namespace  string   `json:"namespace"`
	Errors     []string `json:"errors"`
	Warnings   []string `json:"warnings"`
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

func newObject(apiVersion, kind string) (object, error) {
	switch apiVersion + "/" + kind {
	case "serving.knative.dev/v1/Service":
		return &servingv1.Service{}, nil
	case "sources.knative.dev/v1/PingSource":
		return &sourcesv1.PingSource{}, nil
	case "sources.knative.dev/v1/ApiServerSource":
		return &sourcesv1.ApiServerSource{}, nil
	case "sources.knative.dev/v1/SinkBinding":
		return &sourcesv1.SinkBinding{}, nil
	case "sources.knative.dev/v1/ContainerSource":
		return &sourcesv1.ContainerSource{}, nil
	case "eventing.knative.dev/v1/Broker":
		return &eventingv1.Broker{}, nil
	case "eventing.knative.dev/v1/Trigger":
		return &eventingv1.Trigger{}, nil
	}
	return nil, fmt.Errorf("no Knative validator for %s %s", apiVersion, kind)
}

func readConfigMap(path string) (*corev1.ConfigMap, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(text, &cm); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &cm, nil
}

// stockContext attaches the configuration of a stock Knative installation, as the webhooks do from their ConfigMaps.
func stockContext(servingDir, eventingDir string) (context.Context, error) {
	load := func(dir, file string) *corev1.ConfigMap {
		cm, err := readConfigMap(filepath.Join(dir, "config", "core", "configmaps", file))
		if err != nil {
			panic(err)
		}
		return cm
	}
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	defaults, err := servingconfig.NewDefaultsConfigFromConfigMap(load(servingDir, "defaults.yaml"))
	keep(err)
	features, err := servingconfig.NewFeaturesConfigFromConfigMap(load(servingDir, "features.yaml"))
	keep(err)
	autoscaler, err := autoscalerconfig.NewConfigFromConfigMap(load(servingDir, "autoscaler.yaml"))
	keep(err)
	brokerDefaults, err := eventingconfig.NewDefaultsConfigFromConfigMap(load(eventingDir, "default-broker.yaml"))
	keep(err)
	flags, err := feature.NewFlagsConfigFromConfigMap(load(eventingDir, "features.yaml"))
	keep(err)
	pingDefaults, err := sourcesconfig.NewPingDefaultsConfigFromConfigMap(load(eventingDir, "default-pingsource.yaml"))
	keep(err)
	if firstErr != nil {
		return nil, firstErr
	}
	ctx := context.Background()
	ctx = servingconfig.ToContext(ctx, &servingconfig.Config{Defaults: defaults, Features: features, Autoscaler: autoscaler})
	ctx = eventingconfig.ToContext(ctx, &eventingconfig.Config{Defaults: brokerDefaults})
	ctx = feature.ToContext(ctx, flags)
	ctx = sourcesconfig.ToContext(ctx, &sourcesconfig.Config{PingDefaults: pingDefaults})
	return apis.WithinCreate(ctx), nil
}

func messages(fieldErr *apis.FieldError) []string {
	list := []string{}
	if fieldErr == nil {
		return list
	}
	for _, item := range fieldErr.WrappedErrors() {
		list = append(list, item.Error())
	}
	return list
}

func check(ctx context.Context, raw json.RawMessage) result {
	var meta typeMeta
	if err := json.Unmarshal(raw, &meta); err != nil {
		return result{Errors: []string{err.Error()}}
	}
	out := result{
		APIVersion: meta.APIVersion, Kind: meta.Kind, Name: meta.Metadata.Name, Namespace: meta.Metadata.Namespace,
		Errors: []string{}, Warnings: []string{},
	}
	obj, err := newObject(meta.APIVersion, meta.Kind)
	if err != nil {
		out.Errors = append(out.Errors, err.Error())
		return out
	}
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(obj); err != nil {
		out.Errors = append(out.Errors, "cannot decode (unknown or mistyped field): "+err.Error())
		return out
	}
	obj.SetDefaults(ctx)
	fieldErr := obj.Validate(ctx)
	out.Errors = messages(fieldErr.Filter(apis.ErrorLevel))
	out.Warnings = messages(fieldErr.Filter(apis.WarningLevel))
	return out
}

func run() error {
	servingDir := flag.String("serving", "", "directory of the knative.dev/serving module")
	eventingDir := flag.String("eventing", "", "directory of the knative.dev/eventing module")
	flag.Parse()
	if *servingDir == "" || *eventingDir == "" {
		return errors.New("usage: knative-validate -serving DIR -eventing DIR < objects.json")
	}
	ctx, err := stockContext(*servingDir, *eventingDir)
	if err != nil {
		return err
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	var objects []json.RawMessage
	if err := json.Unmarshal(input, &objects); err != nil {
		return fmt.Errorf("stdin must be a JSON array of objects: %w", err)
	}
	results := make([]result, 0, len(objects))
	for _, raw := range objects {
		results = append(results, check(ctx, raw))
	}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	return encoder.Encode(results)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "knative-validate:", err)
		os.Exit(2)
	}
}
