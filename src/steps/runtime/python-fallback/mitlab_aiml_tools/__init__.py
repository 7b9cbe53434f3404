"""The import path of the lab's SDK, for images that do not have it installed: only
`pipeline.compress`, which running functions use. An installed SDK takes precedence."""
