{{/* Chart name. */}}
{{- define "streamseq.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, unless the release name already contains the chart name. */}}
{{- define "streamseq.fullname" -}}
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

{{- define "streamseq.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "streamseq.selectorLabels" -}}
app.kubernetes.io/name: {{ include "streamseq.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{- define "streamseq.labels" -}}
helm.sh/chart: {{ include "streamseq.chart" . }}
{{ include "streamseq.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: worker
app.kubernetes.io/part-of: streamseq
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "streamseq.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "streamseq.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository@digest when a digest is given (the tag is then ignored), else repository:tag. */}}
{{- define "streamseq.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Where the model ConfigMap is mounted (StreamSeq:ModelFiles:0). */}}
{{- define "streamseq.modelsPath" -}}/etc/streamseq/models{{- end }}

{{/* Where the TLS secret is mounted. */}}
{{- define "streamseq.tlsPath" -}}/etc/streamseq/kafka-tls{{- end }}

{{/* Checks that cannot be expressed in values.schema.json. */}}
{{- define "streamseq.validate" -}}
{{- $partitions := int .Values.kafka.inputPartitions }}
{{- if not .Values.kafka.bootstrapServers }}
{{- fail "kafka.bootstrapServers is required (host:port[,host:port...] of your Kafka cluster)." }}
{{- end }}
{{- if gt (int .Values.replicaCount) $partitions }}
{{- fail (printf "replicaCount (%d) exceeds kafka.inputPartitions (%d): the extra workers would own no partition." (int .Values.replicaCount) $partitions) }}
{{- end }}
{{- if and .Values.autoscaling.enabled .Values.keda.enabled }}
{{- fail "autoscaling.enabled and keda.enabled both create a HorizontalPodAutoscaler; enable one of them." }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.maxReplicas) $partitions) }}
{{- fail (printf "autoscaling.maxReplicas (%d) exceeds kafka.inputPartitions (%d)." (int .Values.autoscaling.maxReplicas) $partitions) }}
{{- end }}
{{- if and .Values.keda.enabled (gt (int .Values.keda.maxReplicaCount) $partitions) }}
{{- fail (printf "keda.maxReplicaCount (%d) exceeds kafka.inputPartitions (%d)." (int .Values.keda.maxReplicaCount) $partitions) }}
{{- end }}
{{- if and .Values.kafka.sasl.enabled (not .Values.kafka.sasl.existingSecret) }}
{{- fail "kafka.sasl.enabled needs kafka.sasl.existingSecret (a Secret with the SASL username and password)." }}
{{- end }}
{{- if and .Values.kafka.tls.certificateKey (not .Values.kafka.tls.existingSecret) }}
{{- fail "kafka.tls.certificateKey needs kafka.tls.existingSecret." }}
{{- end }}
{{- if and .Values.kafka.tls.certificateKey (not .Values.kafka.tls.privateKeyKey) }}
{{- fail "kafka.tls.certificateKey needs kafka.tls.privateKeyKey (the client key of mutual TLS)." }}
{{- end }}
{{- if and (eq .Values.stateStore.type "rocksdb") (ne .Values.workload.kind "StatefulSet") }}
{{- fail "stateStore.type rocksdb needs workload.kind StatefulSet: the store lives on a PersistentVolumeClaim per pod, which only a StatefulSet keeps across restarts under the same pod name." }}
{{- end }}
{{- if and (eq .Values.stateStore.standby "all") (ne .Values.stateStore.type "rocksdb") }}
{{- fail "stateStore.standby all needs stateStore.type rocksdb: standby copies live in the disk store." }}
{{- end }}
{{- if eq (len .Values.models) 0 }}
{{- fail "models: at least one model spec is needed." }}
{{- end }}
{{- include "streamseq.validateDurations" . }}
{{- include "streamseq.validateModels" . }}
{{- if and (eq .Values.stateStore.type "rocksdb") (gt (int64 .Values.processing.maxLiveStreams) 0) }}
{{- fail (printf "processing.maxLiveStreams (%d) applies to stateStore.type memory only; the rocksdb store bounds its memory with stateStore.cacheBytes (set maxLiveStreams to 0)." (int64 .Values.processing.maxLiveStreams)) }}
{{- end }}
{{- range $key, $value := .Values.kafka.client }}
{{- $reserved := include "streamseq.reservedClientSetting" (dict "key" $key "value" (toString $value)) }}
{{- if $reserved }}
{{- fail (printf "kafka.client.%s (%v): %s" $key $value $reserved) }}
{{- end }}
{{- if has $key (list "sasl.password" "sasl.oauthbearer.client.secret" "ssl.key.password") }}
{{- fail (printf "kafka.client.%s: a credential never goes in values (they end up in a ConfigMap); put it in a Secret and use kafka.sasl.existingSecret or envFrom (StreamSeq__Kafka__Client__%s)." $key $key) }}
{{- end }}
{{- if and (has $key (list "security.protocol" "sasl.mechanism" "sasl.mechanisms")) (or $.Values.kafka.sasl.enabled $.Values.kafka.tls.enabled) }}
{{- fail (printf "kafka.client.%s: the chart sets it from kafka.sasl and kafka.tls when either is enabled; set it there (kafka.sasl.securityProtocol, kafka.sasl.mechanism)." $key) }}
{{- end }}
{{- end }}
{{- include "streamseq.validateNames" . }}
{{- include "streamseq.validateKafka" . }}
{{- include "streamseq.validateScaling" . }}
{{- include "streamseq.validatePod" . }}
{{- include "streamseq.validateMonitoring" . }}
{{- end }}

{{/*
The object name every resource uses must be a DNS-1035 label (Services), short enough for the names and labels built
from it: a StatefulSet's pods carry controller-revision-hash=<name>-<10 characters>, a label value of at most 63
characters, and the helm test pod's "<name>-client" label key has the same bound.
*/}}
{{- define "streamseq.validateNames" -}}
{{- $fullname := include "streamseq.fullname" . }}
{{- $limit := ternary 52 56 (eq .Values.workload.kind "StatefulSet") }}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $fullname) }}
{{- fail (printf "the object name %s (release name %s, or fullnameOverride/nameOverride) must start with a lowercase letter and hold only lowercase letters, digits and '-' (Service names are DNS-1035 labels); set fullnameOverride." $fullname .Release.Name) }}
{{- end }}
{{- if gt (len $fullname) $limit }}
{{- fail (printf "the object name %s (release name %s, or fullnameOverride/nameOverride) has %d characters; with workload.kind %s at most %d fit the names and labels Kubernetes derives from it: set a shorter fullnameOverride." $fullname .Release.Name (len $fullname) .Values.workload.kind $limit) }}
{{- end }}
{{- $owned := list "helm.sh/chart" "app.kubernetes.io/name" "app.kubernetes.io/instance" "app.kubernetes.io/version" "app.kubernetes.io/component" "app.kubernetes.io/part-of" "app.kubernetes.io/managed-by" }}
{{- range $path, $labels := dict "podLabels" .Values.podLabels "metrics.serviceMonitor.labels" .Values.metrics.serviceMonitor.labels "metrics.prometheusRule.labels" .Values.metrics.prometheusRule.labels "metrics.grafanaDashboard.labels" .Values.metrics.grafanaDashboard.labels }}
{{- range $key, $_ := $labels }}
{{- if has $key $owned }}
{{- fail (printf "%s.%s: the chart sets this label itself (the workers' selector and the release's labels depend on it); choose another key." $path $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- $topics := dict }}
{{- range $role, $topic := .Values.kafka.topics }}
{{- if hasKey $topics $topic }}
{{- fail (printf "kafka.topics.%s and kafka.topics.%s are both %s: every topic needs its own name (the worker would read its own output or mix records of different kinds)." (get $topics $topic) $role $topic) }}
{{- end }}
{{- $_ := set $topics $topic $role }}
{{- end }}
{{- end }}

{{/* Kafka security settings that contradict each other. */}}
{{- define "streamseq.validateKafka" -}}
{{- if and .Values.kafka.tls.enabled .Values.kafka.sasl.enabled (eq .Values.kafka.sasl.securityProtocol "SASL_PLAINTEXT") }}
{{- fail "kafka.tls.enabled asks for TLS but kafka.sasl.securityProtocol is SASL_PLAINTEXT (no TLS): use SASL_SSL, or disable kafka.tls." }}
{{- end }}
{{- if and .Values.kafka.tls.existingSecret (not (include "streamseq.usesTls" .)) }}
{{- fail (printf "kafka.tls.existingSecret (%s) is set but the connection does not use TLS: set kafka.tls.enabled=true (or kafka.sasl.securityProtocol SASL_SSL with kafka.sasl.enabled), or leave it empty." .Values.kafka.tls.existingSecret) }}
{{- end }}
{{- if and .Values.networkPolicy.enabled (not .Values.networkPolicy.allowExternalEgress) }}
{{- $ports := list }}
{{- range .Values.networkPolicy.kafkaPorts }}{{- $ports = append $ports (toString .) }}{{- end }}
{{- range splitList "," .Values.kafka.bootstrapServers }}
{{- if not (has (regexFind "[0-9]+$" .) $ports) }}
{{- fail (printf "kafka.bootstrapServers names %s, but networkPolicy.kafkaPorts (%s) does not admit its port and networkPolicy.allowExternalEgress is false: the workers could not reach the broker. Add the port to networkPolicy.kafkaPorts." . (join ", " $ports)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Replica bounds and resources the autoscalers and the state store need. */}}
{{- define "streamseq.validateScaling" -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail (printf "autoscaling.minReplicas (%d) exceeds autoscaling.maxReplicas (%d)." (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- end }}
{{- if and .Values.keda.enabled (gt (int .Values.keda.minReplicaCount) (int .Values.keda.maxReplicaCount)) }}
{{- fail (printf "keda.minReplicaCount (%d) exceeds keda.maxReplicaCount (%d)." (int .Values.keda.minReplicaCount) (int .Values.keda.maxReplicaCount)) }}
{{- end }}
{{- $requests := default dict .Values.resources.requests }}
{{- $limits := default dict .Values.resources.limits }}
{{- if and .Values.autoscaling.enabled (not (hasKey $requests "cpu")) }}
{{- fail "autoscaling.enabled scales on CPU utilisation, a share of resources.requests.cpu: set resources.requests.cpu." }}
{{- end }}
{{- range $name, $limit := $limits }}
{{- if hasKey $requests $name }}
{{- $request := get $requests $name }}
{{- if gt (float64 (include "streamseq.quantity" $request)) (float64 (include "streamseq.quantity" $limit)) }}
{{- fail (printf "resources.requests.%s (%v) exceeds resources.limits.%s (%v)." $name $request $name $limit) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and (eq .Values.stateStore.type "rocksdb") (hasKey $limits "memory") }}
{{- $needed := addf (float64 .Values.stateStore.cacheBytes) 276824064.0 }}
{{- if lt (float64 (include "streamseq.quantity" $limits.memory)) $needed }}
{{- fail (printf "resources.limits.memory (%v) is below what the rocksdb store needs at the least, stateStore.cacheBytes (%v) + 264Mi (one partition's write buffers, the block cache, the runtime; README, \"State store\"): the pod would be OOM-killed. Raise the limit or lower stateStore.cacheBytes." $limits.memory .Values.stateStore.cacheBytes) }}
{{- end }}
{{- end }}
{{- end }}

{{/* A Kubernetes quantity (1, 0.5, 500m, 512Mi, 1G, 1e3) as a plain number. */}}
{{- define "streamseq.quantity" -}}
{{- if kindIs "string" . }}
{{- $text := trim . }}
{{- if regexMatch "^[0-9.]+([eE][+-]?[0-9]+)?$" $text }}
{{- float64 $text }}
{{- else }}
{{- $suffix := regexFind "(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)$" $text }}
{{- $factors := dict "m" 0.001 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 }}
{{- mulf (float64 (trimSuffix $suffix $text)) (get $factors $suffix) }}
{{- end }}
{{- else }}
{{- float64 . }}
{{- end }}
{{- end }}

{{/* The pod's volumes, mounts and security context. */}}
{{- define "streamseq.validatePod" -}}
{{- $volumes := list "settings" "models" "tmp" }}
{{- $paths := list "/app/appsettings.json" (include "streamseq.modelsPath" .) "/tmp" }}
{{- if eq .Values.stateStore.type "rocksdb" }}
{{- $volumes = append $volumes "state" }}
{{- $paths = append $paths (include "streamseq.statePath" .) }}
{{- end }}
{{- if and (include "streamseq.usesTls" .) .Values.kafka.tls.existingSecret }}
{{- $volumes = append $volumes "kafka-tls" }}
{{- $paths = append $paths (include "streamseq.tlsPath" .) }}
{{- end }}
{{- range $i, $volume := .Values.extraVolumes }}
{{- if has $volume.name $volumes }}
{{- fail (printf "extraVolumes[%d].name: %s is already a volume of the pod (the chart's own: settings, models, tmp, state, kafka-tls; or an earlier extra volume)." $i $volume.name) }}
{{- end }}
{{- $volumes = append $volumes $volume.name }}
{{- end }}
{{- range $i, $mount := .Values.extraVolumeMounts }}
{{- if not (has $mount.name $volumes) }}
{{- fail (printf "extraVolumeMounts[%d].name: there is no volume %s (add it to extraVolumes)." $i $mount.name) }}
{{- end }}
{{- $path := trimSuffix "/" (toString $mount.mountPath) }}
{{- if has $path $paths }}
{{- fail (printf "extraVolumeMounts[%d].mountPath: %s is already mounted (the chart mounts %s)." $i $mount.mountPath (join ", " $paths)) }}
{{- end }}
{{- $paths = append $paths $path }}
{{- end }}
{{- $env := list "ASPNETCORE_HTTP_PORTS" "StreamSeq__Kafka__InstanceId" }}
{{- if .Values.kafka.sasl.enabled }}
{{- $env = concat $env (list "StreamSeq__Kafka__Client__sasl.username" "StreamSeq__Kafka__Client__sasl.password") }}
{{- end }}
{{- range $i, $variable := .Values.extraEnv }}
{{- if has $variable.name $env }}
{{- fail (printf "extraEnv[%d].name: the chart sets %s itself (%s); leave it out of extraEnv." $i $variable.name (get (dict "ASPNETCORE_HTTP_PORTS" "from containerPorts.http, which the probes and the Service follow: set that" "StreamSeq__Kafka__InstanceId" "the pod name, so that every pod has its own transactional id") $variable.name | default "from kafka.sasl.existingSecret")) }}
{{- end }}
{{- end }}
{{- $podContext := default dict .Values.podSecurityContext }}
{{- $containerContext := default dict .Values.securityContext }}
{{- $nonRoot := dig "runAsNonRoot" (dig "runAsNonRoot" false $podContext) $containerContext }}
{{- range $where, $context := dict "podSecurityContext" $podContext "securityContext" $containerContext }}
{{- if and $nonRoot (hasKey $context "runAsUser") (eq (toString $context.runAsUser) "0") }}
{{- fail (printf "%s.runAsUser is 0 (root) while runAsNonRoot is true: the kubelet would refuse to start the container. The image runs as 1654." $where) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Monitoring values the schema cannot bound. */}}
{{- define "streamseq.validateMonitoring" -}}
{{- $rule := .Values.metrics.prometheusRule }}
{{- if $rule.enabled }}
{{- $ratio := float64 (toString $rule.deadLetterRatio) }}
{{- if or (le $ratio 0.0) (gt $ratio 1.0) }}
{{- fail (printf "metrics.prometheusRule.deadLetterRatio (%v) must be more than 0 and at most 1 (a share of the input)." $rule.deadLetterRatio) }}
{{- end }}
{{- if le (float64 (toString $rule.restoreSeconds)) 0.0 }}
{{- fail (printf "metrics.prometheusRule.restoreSeconds (%v) must be more than 0." $rule.restoreSeconds) }}
{{- end }}
{{- end }}
{{- $monitor := .Values.metrics.serviceMonitor }}
{{- if $monitor.enabled }}
{{- if gt (float64 (include "streamseq.promDurationMs" $monitor.scrapeTimeout)) (float64 (include "streamseq.promDurationMs" $monitor.interval)) }}
{{- fail (printf "metrics.serviceMonitor.scrapeTimeout (%s) exceeds metrics.serviceMonitor.interval (%s); Prometheus refuses a timeout longer than the interval." $monitor.scrapeTimeout $monitor.interval) }}
{{- end }}
{{- end }}
{{- end }}

{{/* A Prometheus duration (30s, 1h30m, 2w) in milliseconds; the schema has already checked the form. */}}
{{- define "streamseq.promDurationMs" -}}
{{- $ms := 0.0 }}
{{- $units := dict "ms" 1.0 "s" 1000.0 "m" 60000.0 "h" 3600000.0 "d" 86400000.0 "w" 604800000.0 "y" 31536000000.0 }}
{{- range regexFindAll "[0-9]+(ms|s|m|h|d|w|y)" (toString .) -1 }}
{{- $unit := regexFind "(ms|s|m|h|d|w|y)$" . }}
{{- $ms = addf $ms (mulf (float64 (trimSuffix $unit .)) (get $units $unit)) }}
{{- end }}
{{- $ms }}
{{- end }}

{{/*
A duration value in milliseconds (a float), as the worker reads it: a number with units (100ms, 15s, 1m, 1h30m, 2d) or
a .NET TimeSpan ([d.]hh:mm:ss[.fffffff]); the schema has already checked the form.
*/}}
{{- define "streamseq.durationMs" -}}
{{- $text := toString . }}
{{- $ms := 0.0 }}
{{- if regexMatch "^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$" $text }}
{{- $units := dict "ms" 1.0 "s" 1000.0 "m" 60000.0 "h" 3600000.0 "d" 86400000.0 }}
{{- range regexFindAll "[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)" $text -1 }}
{{- $unit := regexFind "(ms|s|m|h|d)$" . }}
{{- $ms = addf $ms (mulf (float64 (trimSuffix $unit .)) (get $units $unit)) }}
{{- end }}
{{- else }}
{{- $parts := splitList "|" (regexReplaceAll "^(?:([0-9]+)\\.)?([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\\.([0-9]{1,7}))?$" $text "${1}|${2}|${3}|${4}|${5}") }}
{{- $days := float64 (default "0" (index $parts 0)) }}
{{- $seconds := addf (mulf $days 86400.0) (mulf (float64 (index $parts 1)) 3600.0) (mulf (float64 (index $parts 2)) 60.0) (float64 (index $parts 3)) }}
{{- $ms = addf (mulf $seconds 1000.0) (mulf (float64 (printf "0.%s" (default "0" (index $parts 4)))) 1000.0) }}
{{- end }}
{{- $ms }}
{{- end }}

{{/* The worker's range of every duration value (its settings' [Range] attributes), and the order between them. */}}
{{- define "streamseq.validateDurations" -}}
{{- $checks := list
  (list "kafka.commitInterval" .Values.kafka.commitInterval 1.0 600000.0 "1ms" "10m")
  (list "kafka.transactionTimeout" .Values.kafka.transactionTimeout 1000.0 900000.0 "1s" "15m")
  (list "kafka.stallTimeout" .Values.kafka.stallTimeout 1000.0 86400000.0 "1s" "1d")
  (list "kafka.sessionTimeout" .Values.kafka.sessionTimeout 1000.0 1800000.0 "1s" "30m")
  (list "processing.allowedLateness" .Values.processing.allowedLateness 0.0 86400000.0 "0s" "1d")
  (list "processing.maxTimeSkew" .Values.processing.maxTimeSkew 0.0 31536000000.0 "0s" "365d")
  (list "stateStore.checkpointInterval" .Values.stateStore.checkpointInterval 100.0 3600000.0 "100ms" "1h")
}}
{{- range $checks }}
{{- $ms := float64 (include "streamseq.durationMs" (index . 1)) }}
{{- if or (lt $ms (index . 2)) (gt $ms (index . 3)) }}
{{- fail (printf "%s (%s) must be between %s and %s." (index . 0) (index . 1) (index . 4) (index . 5)) }}
{{- end }}
{{- end }}
{{- $commit := float64 (include "streamseq.durationMs" .Values.kafka.commitInterval) }}
{{- $transaction := float64 (include "streamseq.durationMs" .Values.kafka.transactionTimeout) }}
{{- $stall := float64 (include "streamseq.durationMs" .Values.kafka.stallTimeout) }}
{{- if ge $commit $transaction }}
{{- fail (printf "kafka.commitInterval (%s) must be shorter than kafka.transactionTimeout (%s): a transaction stays open for the commit interval." .Values.kafka.commitInterval .Values.kafka.transactionTimeout) }}
{{- end }}
{{- if le $stall $transaction }}
{{- fail (printf "kafka.stallTimeout (%s) must be longer than kafka.transactionTimeout (%s): one commit attempt may take that long." .Values.kafka.stallTimeout .Values.kafka.transactionTimeout) }}
{{- end }}
{{- end }}

{{/* Every model name is unique, and routes, defaultModel and modelSettings name models that exist. */}}
{{- define "streamseq.validateModels" -}}
{{- $names := list }}
{{- range .Values.models }}
{{- if has (lower .name) $names }}
{{- fail (printf "models: the name %s is given twice (names are case-insensitive)." .name) }}
{{- end }}
{{- $names = append $names (lower .name) }}
{{- end }}
{{- $list := list }}
{{- range .Values.models }}{{- $list = append $list .name }}{{- end }}
{{- range $i, $route := .Values.routes }}
{{- if not (has (lower $route.model) $names) }}
{{- fail (printf "routes[%d].model: there is no model named %s (models: %s)." $i $route.model (join ", " $list)) }}
{{- end }}
{{- if and $route.routeKey (not $.Values.kafka.routeHeader) }}
{{- fail (printf "routes[%d].routeKey (%s) can never match: kafka.routeHeader is empty, so no header routes streams." $i $route.routeKey) }}
{{- end }}
{{- end }}
{{- if and .Values.defaultModel (not (has (lower .Values.defaultModel) $names)) }}
{{- fail (printf "defaultModel: there is no model named %s (models: %s)." .Values.defaultModel (join ", " $list)) }}
{{- end }}
{{- range $name, $_ := .Values.modelSettings }}
{{- if not (has (lower $name) $names) }}
{{- fail (printf "modelSettings.%s: there is no model named %s (models: %s)." $name $name (join ", " $list)) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Why a kafka.client property contradicts what the worker sets itself (its ReservedClientSettings), or nothing.
*/}}
{{- define "streamseq.reservedClientSetting" -}}
{{- $key := .key }}
{{- $value := lower (trim .value) }}
{{- $owned := dict "bootstrap.servers" "kafka.bootstrapServers" "metadata.broker.list" "kafka.bootstrapServers" "group.id" "kafka.groupId" "group.protocol" "kafka.groupProtocol" "transactional.id" "kafka.groupId and the pod name" "transaction.timeout.ms" "kafka.transactionTimeout" "session.timeout.ms" "kafka.sessionTimeout" }}
{{- $fixed := dict "enable.idempotence" (list "true" "t" "1") "acks" (list "all" "-1") "request.required.acks" (list "all" "-1") "isolation.level" (list "read_committed") "enable.auto.commit" (list "false" "f" "0") "enable.auto.offset.store" (list "false" "f" "0") "partition.assignment.strategy" (list "cooperative-sticky") }}
{{- if hasKey $owned $key }}
{{- printf "the worker sets %s from %s; set that instead." $key (get $owned $key) }}
{{- else if has $key (list "enable.partition.eof" "consume.result.fields") }}
{{- printf "the worker sets %s for each of its clients; leave it out." $key }}
{{- else if and (hasKey $fixed $key) (not (has $value (get $fixed $key))) }}
{{- printf "must be %s or left out: the worker's exactly-once processing depends on it." (first (get $fixed $key)) }}
{{- end }}
{{- end }}

{{/* "true" when the Kafka connection uses TLS (SSL or SASL_SSL). */}}
{{- define "streamseq.usesTls" -}}
{{- if or .Values.kafka.tls.enabled (and .Values.kafka.sasl.enabled (eq .Values.kafka.sasl.securityProtocol "SASL_SSL")) }}true{{- end }}
{{- end }}

{{/* The librdkafka pass-through settings: user settings plus what sasl/tls imply (secrets come from env, not here). */}}
{{- define "streamseq.kafkaClient" -}}
{{- $client := deepCopy .Values.kafka.client }}
{{- if .Values.kafka.sasl.enabled }}
{{- $_ := set $client "security.protocol" .Values.kafka.sasl.securityProtocol }}
{{- $_ := set $client "sasl.mechanism" .Values.kafka.sasl.mechanism }}
{{- else if .Values.kafka.tls.enabled }}
{{- $_ := set $client "security.protocol" "SSL" }}
{{- end }}
{{- if include "streamseq.usesTls" . }}
{{- if .Values.kafka.tls.existingSecret }}
{{- $_ := set $client "ssl.ca.location" (printf "%s/%s" (include "streamseq.tlsPath" .) .Values.kafka.tls.caKey) }}
{{- if .Values.kafka.tls.certificateKey }}
{{- $_ := set $client "ssl.certificate.location" (printf "%s/%s" (include "streamseq.tlsPath" .) .Values.kafka.tls.certificateKey) }}
{{- $_ := set $client "ssl.key.location" (printf "%s/%s" (include "streamseq.tlsPath" .) .Values.kafka.tls.privateKeyKey) }}
{{- end }}
{{- else if not (hasKey $client "ssl.ca.location") }}
{{- /* No CA secret: let librdkafka find the image's system CA bundle. */}}
{{- $_ := set $client "ssl.ca.location" "probe" }}
{{- end }}
{{- end }}
{{- toJson $client }}
{{- end }}

{{/* appsettings.json for the worker (replaces the image's file, which carries the embedded-mode demo models). */}}
{{- define "streamseq.settings" -}}
{{- $routes := list }}
{{- range .Values.routes }}
{{- $route := dict "Model" .model }}
{{- if .streamPattern }}{{- $_ := set $route "StreamPattern" .streamPattern }}{{- end }}
{{- if .routeKey }}{{- $_ := set $route "RouteKey" .routeKey }}{{- end }}
{{- $routes = append $routes $route }}
{{- end }}
{{- $modelSettings := dict }}
{{- range $name, $s := .Values.modelSettings }}
{{- $entry := dict }}
{{- if hasKey $s "lag" }}{{- $_ := set $entry "Lag" $s.lag }}{{- end }}
{{- if hasKey $s "horizon" }}{{- $_ := set $entry "Horizon" $s.horizon }}{{- end }}
{{- $_ := set $modelSettings $name $entry }}
{{- end }}
{{- $kafka := dict
  "BootstrapServers" .Values.kafka.bootstrapServers
  "GroupId" .Values.kafka.groupId
  "InputTopic" .Values.kafka.topics.input
  "FilteredTopic" .Values.kafka.topics.filtered
  "SmoothedTopic" .Values.kafka.topics.smoothed
  "ForecastTopic" .Values.kafka.topics.forecasts
  "AnomalyTopic" .Values.kafka.topics.anomalies
  "DeadLetterTopic" .Values.kafka.topics.deadLetters
  "ChangelogTopic" .Values.kafka.topics.changelog
  "CommitInterval" .Values.kafka.commitInterval
  "MaxBatchSize" .Values.kafka.maxBatchSize
  "TransactionTimeout" .Values.kafka.transactionTimeout
  "StallTimeout" .Values.kafka.stallTimeout
  "CreateTopics" .Values.kafka.createTopics
  "TopicPartitions" .Values.kafka.inputPartitions
  "ReplicationFactor" .Values.kafka.replicationFactor
  "RouteHeader" .Values.kafka.routeHeader
  "GroupProtocol" .Values.kafka.groupProtocol
  "SessionTimeout" .Values.kafka.sessionTimeout
  "Client" (include "streamseq.kafkaClient" . | fromJson)
}}
{{- $processing := dict
  "Lag" .Values.processing.lag
  "Horizon" .Values.processing.horizon
  "AllowedLateness" .Values.processing.allowedLateness
  "MaxTimeSkew" .Values.processing.maxTimeSkew
  "MaxComponents" .Values.processing.maxComponents
  "MaxRecordBytes" .Values.processing.maxRecordBytes
  "MaxLiveStreams" .Values.processing.maxLiveStreams
}}
{{- if eq .Values.stateStore.type "rocksdb" }}
{{- $_ := set $processing "StateStore" "rocksdb" }}
{{- $_ := set $processing "StateDirectory" (include "streamseq.statePath" .) }}
{{- $_ := set $processing "CacheBytes" .Values.stateStore.cacheBytes }}
{{- $_ := set $processing "CheckpointInterval" .Values.stateStore.checkpointInterval }}
{{- $_ := set $processing "Standby" .Values.stateStore.standby }}
{{- end }}
{{- $streamseq := dict
  "Kafka" $kafka
  "Processing" $processing
  "ModelFiles" (list (include "streamseq.modelsPath" .))
  "Routes" $routes
  "ModelSettings" $modelSettings
  "Dashboard" (dict "Enabled" .Values.dashboard.enabled)
}}
{{- if .Values.defaultModel }}{{- $_ := set $streamseq "DefaultModel" .Values.defaultModel }}{{- end }}
{{- $logging := dict "LogLevel" (dict "Default" .Values.logLevel "Microsoft.AspNetCore" "Warning" "Microsoft.Hosting.Lifetime" "Information") }}
{{- $settings := dict "Logging" $logging "StreamSeq" $streamseq }}
{{- toPrettyJson $settings }}
{{- end }}

{{/* Where the disk store's volume is mounted (StreamSeq:Processing:StateDirectory). */}}
{{- define "streamseq.statePath" -}}
/var/lib/streamseq/state
{{- end }}

{{/* A probe's timings: the ones set under probes.<probe> (Kubernetes' defaults for the others). */}}
{{- define "streamseq.probeTimings" -}}
{{- range $key := list "initialDelaySeconds" "periodSeconds" "timeoutSeconds" "failureThreshold" }}
{{- if hasKey $ $key }}
{{ $key }}: {{ get $ $key }}
{{- end }}
{{- end }}
{{- end }}
