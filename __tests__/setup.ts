// cdktf's jest matchers (toHaveResourceWithProperties, toBeValidTerraform, ...) and their type declarations.
import { setupJest } from "cdktf/lib/testing/adapters/jest";

setupJest();
