{{/*
One alerting rule: root, alert, severity, for, expr, summary, description. The runbook is the
alert's section of docs/runbooks.md under runbookBaseUrl. Summary and description are passed
through as Prometheus templates ({{ $labels.x }}), not expanded by Helm.
*/}}
{{- define "smbp.alert" -}}
- alert: {{ .alert }}
  expr: {{ .expr }}
  for: {{ .for }}
  labels:
    severity: {{ .severity }}
  annotations:
    summary: {{ .summary | quote }}
    description: {{ .description | quote }}
    runbook_url: {{ printf "%s#%s" (.root.Values.runbookBaseUrl | trimSuffix "/") (lower .alert) | quote }}
{{- end -}}
