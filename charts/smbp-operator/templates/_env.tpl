{{/* The operator's settings as the SMBP_* variables `smbp-operator run` reads (see main.rs). */}}
{{- define "smbp.env" -}}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: SMBP_NAMESPACES
  value: {{ join "," .Values.watchNamespaces | quote }}
- name: SMBP_PROBE_ADDRESS
  value: "0.0.0.0:8080"
- name: SMBP_RESYNC_SECONDS
  value: {{ .Values.resyncSeconds | quote }}
- name: SMBP_CONCURRENCY
  value: {{ .Values.concurrency | quote }}
- name: SMBP_LOG_FORMAT
  value: {{ .Values.logFormat | quote }}
- name: SMBP_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: SMBP_LEADER_ELECT
  value: {{ .Values.leaderElection.enabled | quote }}
- name: SMBP_LEASE_NAME
  value: {{ include "smbp.fullname" . }}
- name: SMBP_LEASE_DURATION
  value: {{ .Values.leaderElection.leaseDuration | quote }}
- name: SMBP_LEASE_RENEW_DEADLINE
  value: {{ .Values.leaderElection.renewDeadline | quote }}
- name: SMBP_LEASE_RETRY_PERIOD
  value: {{ .Values.leaderElection.retryPeriod | quote }}
- name: SMBP_WEBHOOK_CERT_SOURCE
  value: {{ if not .Values.webhook.enabled }}none{{ else if include "smbp.selfManaged" . }}self-managed{{ else }}files{{ end }}
- name: SMBP_WEBHOOK_ADDRESS
  value: "0.0.0.0:9443"
- name: SMBP_WEBHOOK_CERT_DIR
  value: /tmp/k8s-webhook-server/serving-certs
- name: SMBP_WEBHOOK_SERVICE
  value: {{ include "smbp.webhookService" . }}
- name: SMBP_WEBHOOK_CONFIGURATION
  value: {{ include "smbp.fullname" . }}
- name: SMBP_WEBHOOK_CA_SECRET
  value: {{ include "smbp.caSecret" . }}
- name: SMBP_WEBHOOK_CA_VALIDITY
  value: {{ .Values.webhook.selfManaged.caValidity | quote }}
- name: SMBP_WEBHOOK_CERT_VALIDITY
  value: {{ .Values.webhook.selfManaged.certValidity | quote }}
{{- end -}}
