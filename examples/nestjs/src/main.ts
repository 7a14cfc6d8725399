import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks(); // SIGTERM and SIGINT close the app: ParallelModule closes its workers
  await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
  const modules = typeof module === 'object' ? 'CommonJS' : 'ES modules';
  Logger.log(`Listening on ${await app.getUrl()} (${modules})`, 'Main');
}

void bootstrap();
