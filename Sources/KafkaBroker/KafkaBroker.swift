// The broker (see KafkaServer).
