import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BatonAuthModule, HEALTH_PROBE, natsHealthController } from '@baton/auth';
import { Subjects } from '@baton/contracts';
import { DatabaseHealthProbe, serviceStoreModule } from '@baton/persistence';
import { InitialProfileSchema1732300000001 } from './migrations/1732300000001-initial-profile-schema';
import { ProfileController } from './profile.controller';
import { ProfileEntity } from './profile.entity';
import { ProfileService } from './profile.service';

@Module({
  imports: [
    BatonAuthModule.forRoot({ service: 'profile' }),
    serviceStoreModule('profile', [ProfileEntity], [InitialProfileSchema1732300000001]),
    TypeOrmModule.forFeature([ProfileEntity]),
  ],
  controllers: [ProfileController, natsHealthController('profile', Subjects.profile.health)],
  providers: [{ provide: HEALTH_PROBE, useClass: DatabaseHealthProbe }, ProfileService],
})
export class ProfileAppModule {}
