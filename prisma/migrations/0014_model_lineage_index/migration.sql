-- CreateIndex
CREATE INDEX "Model_source_version_idx" ON "Model"("source", "version");

