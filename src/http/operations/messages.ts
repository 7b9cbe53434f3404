/** The original's `detail` messages (original-system.md §1.2), spelling included. */
export const CREATED_WITH_FILE = "Metadata created and File uploaded successfully";
export const CREATED = "Metadata created successfully";
export const RETRIEVED = "Metadata retrieved successfully";
export const LISTED = "Metadatas retrieved successfully";
export const UPDATED = "Metadata updated successfully";
export const DELETED = "Metadata deleted successfully";
export const EXECUTED = "Excute task successfully";
