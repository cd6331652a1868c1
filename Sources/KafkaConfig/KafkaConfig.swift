// Parsing and validation of server.properties and topic configs (see BrokerConfig).
