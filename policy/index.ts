// Entry point the Pulumi CLI runs for `--policy-pack policy`. Constructing the pack starts the
// analyzer's gRPC server, so nothing else may import this file: tests import ./policies.
import { PolicyPack } from "@pulumi/policy";
import { policies, POLICY_PACK_NAME } from "./policies";

new PolicyPack(POLICY_PACK_NAME, { policies });
