{{/* The release's pink name: <release>-pink unless the release is named pink. */}}
{{- define "pink.fullname" -}}
{{- if contains "pink" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-pink" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "pink.clusterName" -}}
{{- default .Release.Name .Values.clusterName -}}
{{- end -}}

{{- define "pink.labels" -}}
app.kubernetes.io/name: pink
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "pink.selector" -}}
app.kubernetes.io/name: pink
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "pink.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{/* Flags and environment every pink process needs to reach etcd. */}}
{{- define "pink.etcdArgs" -}}
{{- if not .Values.etcd.endpoints }}{{ fail "etcd.endpoints is required: the client URLs of your etcd cluster's members" }}{{ end -}}
- --etcd-endpoints={{ join "," .Values.etcd.endpoints }}
- --root={{ .Values.etcd.root }}
- --cluster-name={{ include "pink.clusterName" . }}
- --log-format=json
{{- if .Values.etcd.tlsSecret }}
- --etcd-cacert=/etc/pink/etcd-tls/ca.crt
{{- if .Values.etcd.clientCert }}
- --etcd-cert=/etc/pink/etcd-tls/tls.crt
- --etcd-key=/etc/pink/etcd-tls/tls.key
{{- end }}
{{- end }}
{{- end -}}

{{- define "pink.etcdEnv" -}}
{{- if .Values.etcd.authSecret }}
- name: PINK_ETCD_USERNAME
  valueFrom: {secretKeyRef: {name: {{ .Values.etcd.authSecret }}, key: username}}
- name: PINK_ETCD_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ .Values.etcd.authSecret }}, key: password}}
{{- end }}
{{- end -}}

{{- define "pink.etcdVolumeMounts" -}}
{{- if .Values.etcd.tlsSecret }}
- name: etcd-tls
  mountPath: /etc/pink/etcd-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "pink.etcdVolumes" -}}
{{- if .Values.etcd.tlsSecret }}
- name: etcd-tls
  secret:
    secretName: {{ .Values.etcd.tlsSecret }}
{{- end }}
{{- end -}}

{{/* The container's security context: pink needs no privilege. */}}
{{- define "pink.securityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}
