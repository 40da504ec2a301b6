/** The Terraform variables `npm run deploy` fills from the secrets file (TF_VAR_<name>). */
export const SECRET_VARIABLES = {
  gossipKey: "gossip_key",
  managementToken: "management_token",
  roleTokens: "role_tokens",
} as const;
