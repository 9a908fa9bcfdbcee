import { z } from "zod";
import { MAX_VARIANT_NAME_LENGTH } from "../../images/src/limits";
import { ISOLATIONS, microvmSpecSchema } from "./microvm";
import { variantSpecSchema } from "./variants";

/** The variant table: each entry a container or, with `isolation: microvm`, a micro-VM. */
export const variantTableSchema = z
  .record(
    z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, "variant names are lower-case letters, digits and dashes")
      .max(MAX_VARIANT_NAME_LENGTH, `variant names are at most ${MAX_VARIANT_NAME_LENGTH} characters (the web API refuses a longer VARIANT at start)`),
    z.discriminatedUnion("isolation", [variantSpecSchema, microvmSpecSchema], {
      error: (issue) => (issue.code === "invalid_union" ? `must be one of ${ISOLATIONS.join(", ")}` : undefined),
    }),
  )
  .refine((table) => Object.keys(table).length > 0, "at least one variant is required");
