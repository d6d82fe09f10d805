{{/* A Role with its RoleBinding to the operator's ServiceAccount: root, namespace, suffix, rules. */}}
{{- define "smbp.role" -}}
{{- $name := printf "%s%s" (include "smbp.fullname" .root) .suffix }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $name }}
  namespace: {{ .namespace }}
  labels:
    {{- include "smbp.labels" .root | nindent 4 }}
rules:
  {{- .rules | nindent 2 }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}
  namespace: {{ .namespace }}
  labels:
    {{- include "smbp.labels" .root | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $name }}
subjects:
  - kind: ServiceAccount
    name: {{ include "smbp.fullname" .root }}
    namespace: {{ .root.Release.Namespace }}
{{- end -}}
