package telemetry

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
)

// processResource is what every span and log record of a process says it
// comes from: service.name, service.version and service.instance.id (the
// host and process id, the name the console and the logs use for it), the
// host, the process and the SDK as the OpenTelemetry SDK's detectors find
// them; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over all of it.
func processResource(ctx context.Context, service, version string) (*resource.Resource, error) {
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", service), attribute.String("service.version", version),
			attribute.String("service.instance.id", instanceID())),
		resource.WithHost(), resource.WithOS(), resource.WithProcessPID(), resource.WithProcessExecutableName(),
		resource.WithProcessRuntimeName(), resource.WithProcessRuntimeVersion(), resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("detect the process's resource: %w", err)
	}
	return res, nil
}

// instanceID is <host>-<pid>: unique among the processes of a service (a
// pod's host name is the pod's).
func instanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// sdkDisabled is OTEL_SDK_DISABLED=true: the SDK exports no span and no
// log record, whatever else the environment configures.
func sdkDisabled() bool {
	return strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true")
}
