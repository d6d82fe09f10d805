{{/* Names, labels and the image reference shared by every template. */}}

{{/* The base name of every object: "smbp-operator" for a release named smbp-operator. */}}
{{- define "smbp.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains "smbp-operator" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-smbp-operator" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "smbp.webhookService" -}}{{ include "smbp.fullname" . }}-webhook{{- end -}}
{{- define "smbp.metricsService" -}}{{ include "smbp.fullname" . }}-metrics{{- end -}}
{{- define "smbp.caSecret" -}}{{ include "smbp.fullname" . }}-webhook-ca{{- end -}}
{{- define "smbp.certSecret" -}}{{ include "smbp.fullname" . }}-webhook-cert{{- end -}}

{{/* Labels every object carries. */}}
{{- define "smbp.labels" -}}
app.kubernetes.io/name: smbp-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The pods' selector labels (never change: Deployment selectors are immutable). */}}
{{- define "smbp.selector" -}}
app.kubernetes.io/name: smbp-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The operator image: by digest when image.digest is set, from global.imageRegistry when set. */}}
{{- define "smbp.image" -}}
{{- $registry := .Values.global.imageRegistry | default .Values.image.registry -}}
{{- $ref := printf "%s/%s" $registry .Values.image.repository -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $ref .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* Whether the webhook's certificate comes from cert-manager. */}}
{{- define "smbp.certManager" -}}
{{- if and .Values.webhook.enabled (eq .Values.webhook.certificates "cert-manager") }}true{{ end -}}
{{- end -}}

{{/* Whether the operator keeps its own webhook CA (and needs access to its Secret). */}}
{{- define "smbp.selfManaged" -}}
{{- if and .Values.webhook.enabled (eq .Values.webhook.certificates "self-managed") }}true{{ end -}}
{{- end -}}
