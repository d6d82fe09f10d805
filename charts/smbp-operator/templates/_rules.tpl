{{/*
The operator's RBAC rules, derived from the API calls in crates/smbp-operator/src; each is
explained in docs/security.md. "cpdlw" below: create + patch (server-side apply; creating through
apply is also authorized as "create"), delete (prune), list + watch (the child caches, cache.rs).
*/}}

{{/*
Rules in every namespace whose BigPeers are managed. Argument: kafkaList — whether list of
KafkaTopics and KafkaUsers belongs here (all-namespaces mode) or to the cluster-wide reads.
*/}}
{{- define "smbp.rules.namespaced" -}}
- apiGroups: ["smbp.dev"]
  resources: ["bigpeers"]
  verbs: ["list", "watch", "patch"]
- apiGroups: ["smbp.dev"]
  resources: ["bigpeers/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["configmaps", "serviceaccounts", "services"]
  verbs: ["create", "patch", "delete", "list", "watch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create", "patch", "delete", "list", "watch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "delete"]
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["list", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["list"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["apps"]
  resources: ["statefulsets"]
  verbs: ["create", "patch", "delete", "list", "watch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "create", "patch", "delete", "list", "watch"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "create", "patch", "delete", "list", "watch"]
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: ["create", "patch", "delete", "list", "watch"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["create", "patch", "delete", "list", "watch"]
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses", "networkpolicies"]
  verbs: ["create", "patch", "delete", "list", "watch"]
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["httproutes", "grpcroutes", "tlsroutes", "tcproutes", "backendtlspolicies"]
  verbs: ["create", "patch", "delete", "list", "watch"]
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["gateways"]
  verbs: ["get"]
- apiGroups: ["cert-manager.io"]
  resources: ["certificates"]
  verbs: ["get", "create", "patch", "delete", "list", "watch"]
- apiGroups: ["cert-manager.io"]
  resources: ["issuers"]
  verbs: ["get"]
{{ include "smbp.rules.kafka" (dict "cached" true "kafkaList" .kafkaList) }}
- apiGroups: ["monitoring.coreos.com"]
  resources: ["servicemonitors", "prometheusrules"]
  verbs: ["create", "patch", "delete", "list", "watch"]
{{- end -}}

{{/*
Strimzi: the Kafka read, the BigPeer's KafkaTopic and KafkaUser written. Arguments: cached —
watched by the child caches (a managed namespace, not a strimziNamespaces one); kafkaList.
*/}}
{{- define "smbp.rules.kafka" -}}
- apiGroups: ["kafka.strimzi.io"]
  resources: ["kafkas"]
  verbs: ["get"]
- apiGroups: ["kafka.strimzi.io"]
  resources: ["kafkatopics", "kafkausers"]
  verbs: ["create", "patch", "delete"{{ if .cached }}, "watch"{{ end }}{{ if .kafkaList }}, "list"{{ end }}]
{{- end -}}

{{/*
A namespace of a Strimzi Kafka that BigPeers of other namespaces use (strimziNamespaces): the
Kafka rules, and the KafkaUser's Secret, which the operator copies to the BigPeer's namespace
(dereference.rs).
*/}}
{{- define "smbp.rules.strimziNamespace" -}}
{{ include "smbp.rules.kafka" (dict "cached" false "kafkaList" false) }}
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
{{- end -}}

{{/* Cluster-scoped objects: the ClusterIssuer a BigPeer names, the webhook configuration. */}}
{{- define "smbp.rules.cluster" -}}
- apiGroups: ["cert-manager.io"]
  resources: ["clusterissuers"]
  verbs: ["get"]
{{- if include "smbp.selfManaged" . }}
- apiGroups: ["admissionregistration.k8s.io"]
  resources: ["validatingwebhookconfigurations"]
  resourceNames: [{{ include "smbp.fullname" . | quote }}]
  verbs: ["get", "update"]
{{- end }}
{{- end -}}

{{/*
The operator's own namespace: the Namespace itself, which the binary reads at start to say
what to do when it is missing (main.rs; a Role reaches it, as kube-apiserver authorizes
GET /api/v1/namespaces/<ns> in namespace <ns>); its Lease (leader.rs: get, create, replace) and the self-managed
webhook CA Secret (webhook/certs.rs: get, create, replace). get and update are limited to the
two names; create cannot be (the name is not known to RBAC before the object exists). Where the
namespace rules already grant Secret get and create (all namespaces, or the release namespace
watched), only update is added.
*/}}
{{- define "smbp.rules.self" -}}
- apiGroups: [""]
  resources: ["namespaces"]
  resourceNames: [{{ .Release.Namespace | quote }}]
  verbs: ["get"]
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
