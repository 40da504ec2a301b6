/** The Terraform variables `npm run deploy` fills from the secrets file and the TLS folder. */
export const SECRET_VARIABLES = {
  gossipKey: "gossip_key",
  managementToken: "management_token",
  roleTokens: "role_tokens",
  /** The lab CA's certificate: public, but from the deploying machine like the rest. */
  tlsCaCert: "tls_ca_cert",
  /** Each server's certificate, by node name. */
  tlsServerCerts: "tls_server_certs",
  /** Each server's private key, by node name. */
  tlsServerKeys: "tls_server_keys",
} as const;
