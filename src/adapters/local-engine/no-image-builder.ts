import type { ImageBuilder } from "../../domain/builds/image-builds.js";

/** The local engine runs steps as host processes: nothing to build, every build file is ready with no image. */
export const noImageBuilder: ImageBuilder = {
  buildsImages: false,
  start: () => Promise.reject(new Error("the local engine builds no images")),
};
