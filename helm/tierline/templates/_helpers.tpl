{{/* Chart name, truncated to the 63-character DNS label limit. */}}
{{- define "tierline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name; release name when it already contains the chart name. */}}
{{- define "tierline.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tierline.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels; pass (dict "root" $ "component" "gateway"). */}}
{{- define "tierline.labels" -}}
helm.sh/chart: {{ include "tierline.chart" .root }}
{{ include "tierline.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: tierline
{{- end }}

{{- define "tierline.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tierline.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "tierline.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tierline.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tierline.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{- define "tierline.configMapName" -}}
{{- .Values.config.existingConfigMap | default (printf "%s-config" (include "tierline.fullname" .)) }}
{{- end }}

{{- define "tierline.webhookName" -}}
{{- printf "%s-webhook" (include "tierline.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tierline.collectorName" -}}
{{- printf "%s-collector" (include "tierline.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The OTLP endpoint tierline exports to: explicit, else the bundled collector. */}}
{{- define "tierline.otlpEndpoint" -}}
{{- if .Values.telemetry.otlp.endpoint }}
{{- .Values.telemetry.otlp.endpoint }}
{{- else if .Values.collector.enabled }}
{{- printf "http://%s.%s.svc:4318" (include "tierline.collectorName" .) .Release.Namespace }}
{{- end }}
{{- end }}

{{/* Env vars (name -> value) every tierline container gets, as a dict. */}}
{{- define "tierline.telemetryEnv" -}}
{{- $env := dict "OTEL_SERVICE_NAME" .Values.telemetry.serviceName -}}
{{- $endpoint := include "tierline.otlpEndpoint" . -}}
{{- if $endpoint }}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_ENDPOINT" $endpoint }}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_PROTOCOL" .Values.telemetry.otlp.protocol }}
{{- end }}
{{- range $k, $v := .Values.telemetry.extraEnv }}
{{- $_ := set $env $k (toString $v) }}
{{- end }}
{{- toJson $env }}
{{- end }}

{{/*
tierline.sidecar: tierline as a native sidecar (an init container with
restartPolicy: Always), for your own pod specs. Put it under initContainers and
add the volumes from "tierline.sidecarVolumes":

  initContainers:
    {{- include "tierline.sidecar" (dict "values" .Values.tierline "tier" "quick") | nindent 4 }}
  volumes:
    {{- include "tierline.sidecarVolumes" (dict "values" .Values.tierline) | nindent 4 }}

"values" is this chart's values tree (.Values when rendered inside this chart, or
.Values.<alias> from a parent chart). Optional keys: "tier" (tier lock),
"configMap", "secret", "name". App containers reach it at
http://127.0.0.1:<ports.proxy>/v1 (OpenAI) and http://127.0.0.1:<ports.proxy> (Anthropic).
The webhook injects the same container (sidecar/webhook.py).
*/}}
{{- define "tierline.sidecar" -}}
{{- $v := .values -}}
- name: {{ .name | default "tierline" }}
  image: {{ printf "%s:%s" $v.image.repository $v.image.tag | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  restartPolicy: Always
  args: ["serve", "--config", "/etc/tierline/tierline.toml", "--host", "127.0.0.1", "--port", {{ $v.ports.proxy | quote }}]
  env:
    - name: TIERLINE_CONFIG
      value: /etc/tierline/tierline.toml
    - name: POD_NAMESPACE
      valueFrom:
        fieldRef:
          fieldPath: metadata.namespace
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: OTEL_RESOURCE_ATTRIBUTES
      value: k8s.namespace.name=$(POD_NAMESPACE),k8s.pod.name=$(POD_NAME)
    {{- with .tier }}
    - name: TIERLINE_TIER
      value: {{ . | quote }}
    {{- end }}
    {{- range $k, $val := (.env | default dict) }}
    - name: {{ $k }}
      value: {{ $val | quote }}
    {{- end }}
  envFrom:
    - secretRef:
        name: {{ .secret | default $v.sidecar.secretName }}
        optional: true
  ports:
    - name: tierline-admin
      containerPort: {{ $v.ports.admin }}
  startupProbe:
    httpGet:
      path: /readyz
      port: tierline-admin
    periodSeconds: 1
    failureThreshold: 60
  readinessProbe:
    httpGet:
      path: /readyz
      port: tierline-admin
    periodSeconds: 10
  livenessProbe:
    httpGet:
      path: /healthz
      port: tierline-admin
    periodSeconds: 20
  securityContext:
    {{- toYaml $v.securityContext | nindent 4 }}
  {{- with $v.sidecar.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: tierline-config
      mountPath: /etc/tierline
      readOnly: true
    - name: tierline-tmp
      mountPath: /tmp
{{- end }}

{{- define "tierline.sidecarVolumes" -}}
- name: tierline-config
  configMap:
    name: {{ .configMap | default .values.sidecar.configMapName }}
- name: tierline-tmp
  emptyDir: {}
{{- end }}

{{/* Settings the webhook injects with (SidecarSettings.from_json). */}}
{{- define "tierline.webhookSettings" -}}
{{- $s := dict "image" (include "tierline.image" .) "imagePullPolicy" .Values.image.pullPolicy
    "proxyPort" (int .Values.ports.proxy) "adminPort" (int .Values.ports.admin)
    "configMap" .Values.sidecar.configMapName "secret" .Values.sidecar.secretName
    "resources" .Values.sidecar.resources "runAsUser" (int .Values.securityContext.runAsUser)
    "env" (include "tierline.telemetryEnv" . | fromJson) -}}
{{- toPrettyJson $s }}
{{- end }}
