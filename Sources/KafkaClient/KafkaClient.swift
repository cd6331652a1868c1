// A small Kafka client over the wire protocol (see KafkaConnection).
