# tierline image: `tierline serve` with the config from a mounted file.
# Not built in CI (no Docker engine there); the Helm chart runs this image.
#
#   docker build -t tierline:dev .
#   docker run --rm -p 8787:8787 -v $PWD/tierline.toml:/etc/tierline/tierline.toml:ro \
#     -e OPENROUTER_API_KEY tierline:dev serve --host 0.0.0.0
#
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY sidecar ./sidecar
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TIERLINE_CONFIG=/etc/tierline/tierline.toml
COPY --from=build /install /usr/local
RUN groupadd --system --gid 10001 tierline \
 && useradd --system --uid 10001 --gid tierline --no-create-home --shell /usr/sbin/nologin tierline
USER 10001:10001
EXPOSE 8787 8788
ENTRYPOINT ["tierline"]
CMD ["serve"]
