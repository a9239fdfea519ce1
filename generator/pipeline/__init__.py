"""The build, stage by stage: plan the sheets and draw them (sheets), build each sheet's
documents and render every format in worker processes (run), and commit the files to
the locked, manifest-keeping output folder that grading shares (output), skipping a
build whose inputs did not change (fingerprint).

    exam ─▶ sheets (draw, check, mistakes) ─▶ documents ─▶ formats (render, collect)
         ─▶ output folder (staged, committed atomically)
"""
