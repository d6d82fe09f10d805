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

{{/*
The operator's own namespace: its Lease (leader.rs: get, create, replace) and the self-managed
webhook CA Secret (webhook/certs.rs: get, create, replace). get and update are limited to the
two names; create cannot be (the name is not known to RBAC before the object exists). Where the
namespace rules already grant Secret get and create (all namespaces, or the release namespace
watched), only update is added.
*/}}
{{- define "smbp.rules.self" -}}
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["create"]
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  resourceNames: [{{ include "smbp.fullname" . | quote }}]
  verbs: ["get", "update"]
{{- if include "smbp.selfManaged" . }}
{{- $covered := or (not .Values.watchNamespaces) (has .Release.Namespace .Values.watchNamespaces) }}
{{- if not $covered }}
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["create"]
{{- end }}
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: [{{ include "smbp.caSecret" . | quote }}]
  verbs: [{{ if not $covered }}"get", {{ end }}"update"]
{{- end }}
{{- end -}}
